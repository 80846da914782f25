import type { Container } from '../container.js';
import type { Sweep } from '../db/sweeps-repository.js';
import type { ArchiveJobCounts } from '../jobs/archive-queue.js';
import type { BreakerState } from '../jobs/instance-breaker.js';

export interface InstanceOverview {
  id: string;
  dueNow: number;
  queue: ArchiveJobCounts;
  refreshJobsQueued: number;
  zapiCallsToday: number;
  /** Null: no daily limit. */
  zapiCallsPerDay: number | null;
  /** Null: closed. */
  breaker: BreakerState | null;
}

export interface StatusOverview {
  instance: string | null;
  contacts: Record<string, number>;
  dueNow: number;
  refreshJobsQueued: number;
  /** next_check_at of the contact due longest, or null when none is due. */
  oldestDue: string | null;
  schedule: { cron: string | null; timezone: string; nextSweep: string | null };
  lastSweep: ReturnType<typeof describeSweep> | null;
  instances: InstanceOverview[];
  dueInUnconfiguredInstances: Record<string, number>;
}

/**
 * What `avatar-archiver status` (without a phone) reports and the console's overview shows:
 * contacts by status, what is due, the queues, each instance's Z-API budget and breaker,
 * and the sweeps. `sweep` is the last sweep as stored, for callers that format it.
 */
export async function readStatusOverview(
  container: Container,
  instanceId?: string,
): Promise<{ summary: StatusOverview; lastSweep: Sweep | null }> {
  const { config } = container;
  const instanceFilter = instanceId ? [instanceId] : null;
  const queues = container.archiveQueues();
  const budget = container.zapi.budget();
  const ids = queues.instanceIds.filter((id) => !instanceId || id === instanceId);
  const [contacts, due, queueCounts, nextSweep, lastSweep, lines, oldestDue] = await Promise.all([
    container.contacts.countByStatus(instanceId),
    container.sweeps.countDue(instanceFilter, new Date()),
    queues.countsByInstance(),
    container.refreshQueue().nextTick(),
    container.sweeps.latest(),
    queues.jobCounts.read(ids),
    container.contacts.oldestDue(),
  ]);
  const instances = await Promise.all(
    ids.map(async (id, index) => ({
      id,
      dueNow: due[id] ?? 0,
      queue: queueCounts[id]!,
      refreshJobsQueued: lines[index]!.refresh,
      zapiCallsToday: await budget.usedToday(id),
      zapiCallsPerDay: budget.perDay(id),
      breaker: await container.zapi.breakers().state(id),
    })),
  );
  const unconfigured = Object.entries(due).filter(([id]) => !queues.instanceIds.includes(id));
  const summary: StatusOverview = {
    instance: instanceId ?? null,
    contacts,
    dueNow: Object.values(due).reduce((sum, count) => sum + count, 0),
    refreshJobsQueued: instances.reduce((sum, instance) => sum + instance.refreshJobsQueued, 0),
    oldestDue: oldestDue?.toISOString() ?? null,
    schedule: {
      cron: config.refresh.cron,
      timezone: config.refresh.timezone,
      nextSweep: nextSweep?.toISOString() ?? null,
    },
    lastSweep: lastSweep ? describeSweep(lastSweep) : null,
    instances,
    dueInUnconfiguredInstances: Object.fromEntries(unconfigured),
  };
  return { summary, lastSweep };
}

export function describeSweep(sweep: Sweep) {
  return {
    id: sweep.id,
    trigger: sweep.trigger,
    includeAll: sweep.includeAll,
    startedAt: sweep.startedAt.toISOString(),
    finishedAt: sweep.finishedAt?.toISOString() ?? null,
    queued: sweep.queued,
    perInstance: Object.fromEntries(
      Object.entries(sweep.progress).map(([id, progress]) => [
        id,
        { queued: progress.queued, done: progress.done, deferred: progress.deferred ?? false },
      ]),
    ),
  };
}
