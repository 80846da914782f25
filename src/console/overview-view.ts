import type { StatusOverview } from '../status/status-overview.js';

export const STATUSES = ['ARCHIVED', 'PENDING', 'NO_PICTURE', 'FAILED'] as const;

/** The overview as the page shows it: one text per `data-field`, so the page's script can refresh each in place. */
export interface OverviewView {
  instanceIds: string[];
  fields: Record<string, string>;
}

export function overviewView(
  summary: StatusOverview,
  contactsByInstance: Record<string, Record<string, number>>,
): OverviewView {
  const fields: Record<string, string> = {};
  countFields(fields, 'all', summary.contacts);
  fields['all.due'] = String(summary.dueNow);
  fields.refreshJobsQueued = String(summary.refreshJobsQueued);
  fields.oldestDue = summary.oldestDue ?? 'nothing due';
  fields.nextSweep =
    summary.schedule.cron === null
      ? 'off (REFRESH_CRON=off)'
      : `${summary.schedule.nextSweep ?? 'not registered yet (no worker has started)'} (${summary.schedule.cron} ${summary.schedule.timezone})`;
  const last = summary.lastSweep;
  fields.lastSweep = last
    ? `#${last.id} (${last.trigger}) started ${last.startedAt}, ${last.finishedAt ? `finished ${last.finishedAt}` : 'still running'}, queued ${last.queued}`
    : 'none yet';
  fields.breakersOpen = String(summary.instances.filter((instance) => instance.breaker !== null).length);
  const depth = { waiting: 0, prioritized: 0, active: 0, delayed: 0 };
  for (const instance of summary.instances) {
    const id = instance.id;
    countFields(fields, id, contactsByInstance[id] ?? {});
    fields[`${id}.due`] = String(instance.dueNow);
    fields[`${id}.calls`] =
      instance.zapiCallsPerDay === null
        ? `${instance.zapiCallsToday} (no daily limit)`
        : `${instance.zapiCallsToday} of ${instance.zapiCallsPerDay}`;
    const { waiting, prioritized, active, delayed } = instance.queue;
    fields[`${id}.queue`] = String(waiting + prioritized + active + delayed);
    depth.waiting += waiting;
    depth.prioritized += prioritized;
    depth.active += active;
    depth.delayed += delayed;
    fields[`${id}.breaker`] = instance.breaker
      ? `OPEN since ${new Date(instance.breaker.since).toISOString()} (${instance.breaker.reason})`
      : 'closed';
  }
  fields.queueDepth = String(depth.waiting + depth.prioritized + depth.active + depth.delayed);
  fields.queueDetail = `waiting ${depth.waiting}, prioritized ${depth.prioritized}, active ${depth.active}, delayed ${depth.delayed}`;
  return { instanceIds: summary.instances.map((instance) => instance.id), fields };
}

function countFields(fields: Record<string, string>, prefix: string, counts: Record<string, number>): void {
  let total = 0;
  for (const status of STATUSES) {
    const count = counts[status] ?? 0;
    fields[`${prefix}.${status}`] = String(count);
    total += count;
  }
  fields[`${prefix}.total`] = String(total);
  fields[`${prefix}.coverage`] = coverage(counts.ARCHIVED ?? 0, total);
}

/** Archived ÷ contacts, as a percentage with one decimal ("-" without contacts). */
export function coverage(archived: number, total: number): string {
  return total === 0 ? '-' : `${((archived / total) * 100).toFixed(1)}%`;
}
