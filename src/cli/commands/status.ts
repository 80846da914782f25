import type { Container } from '../../container.js';
import type { Sweep } from '../../db/sweeps-repository.js';
import { readStatusOverview } from '../../status/status-overview.js';
import { normalizePhone } from '../../domain/phone.js';
import { openContainer, resolveInstance } from '../cli-context.js';

export interface StatusOptions {
  instance?: string;
  json?: boolean;
}

export async function statusCommand(phone: string | undefined, options: StatusOptions): Promise<void> {
  const container = await openContainer();
  try {
    if (phone === undefined) {
      await printOverview(container, options);
      return;
    }
    const instanceId = await resolveInstance(container, options.instance, false);
    const contact = await container.contacts.findContact(instanceId, normalizePhone(phone));
    if (!contact) {
      console.log(`no contact ${normalizePhone(phone)} for instance ${instanceId}`);
      process.exitCode = 1;
      return;
    }
    if (options.json) {
      console.log(JSON.stringify(contact, null, 2));
      return;
    }
    const rows: [string, unknown][] = [
      ['instance', contact.instanceId],
      ['phone', contact.phone],
      ['status', contact.avatarStatus],
      ['avatar_url', contact.avatarUrl],
      ['avatar_sha256', contact.avatarSha256],
      ['avatar_updated_at', contact.avatarUpdatedAt?.toISOString()],
      ['avatar_source_url', contact.avatarSourceUrl],
      ['avatar_verified_at', contact.avatarVerifiedAt?.toISOString()],
      ['last_checked_at', contact.lastCheckedAt?.toISOString()],
      ['last_error', contact.lastError],
      ['last_error_at', contact.lastErrorAt?.toISOString()],
      ['consecutive_failures', contact.consecutiveFailures],
      ['consecutive_no_picture', contact.consecutiveNoPicture],
      ['consecutive_unchanged', contact.consecutiveUnchanged],
      ['next_check_at', contact.nextCheckAt.toISOString()],
    ];
    for (const [name, value] of rows) console.log(`${name.padEnd(24)} ${value ?? '-'}`);
  } finally {
    await container.close();
  }
}

async function printOverview(container: Container, options: StatusOptions): Promise<void> {
  const { config } = container;
  const { summary, lastSweep } = await readStatusOverview(container, options.instance);
  const { contacts, instances } = summary;
  const unconfigured = Object.entries(summary.dueInUnconfiguredInstances);
  if (options.json) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  console.log(`contacts${options.instance ? ` of instance ${options.instance}` : ''}:`);
  for (const [status, count] of Object.entries(contacts)) console.log(`  ${status.padEnd(12)} ${count}`);
  console.log(`  due now      ${summary.dueNow}`);
  console.log(`refresh jobs queued: ${summary.refreshJobsQueued}`);
  console.log(
    `next sweep: ${config.refresh.cron === null ? 'off (REFRESH_CRON=off)' : `${summary.schedule.nextSweep ?? 'not registered yet (no worker has started)'} (${config.refresh.cron} ${config.refresh.timezone})`}`,
  );
  console.log(`last sweep: ${lastSweep ? formatSweep(lastSweep) : 'none yet'}`);
  for (const instance of instances) {
    const { waiting, prioritized, active, delayed } = instance.queue;
    const cap = instance.zapiCallsPerDay === null ? '' : ` of ${instance.zapiCallsPerDay}`;
    const { breaker } = instance;
    const circuit = breaker
      ? `OPEN since ${new Date(breaker.since).toISOString()} (${breaker.reason}); last probe ${breaker.lastProbeAt ? `${new Date(breaker.lastProbeAt).toISOString()}: ${breaker.lastProbe}` : 'not yet'}, next ${new Date(breaker.nextProbeAt).toISOString()}`
      : 'closed';
    console.log(
      `instance ${instance.id}: circuit ${circuit}; due ${instance.dueNow}, queue waiting ${waiting} prioritized ${prioritized} (refresh ${instance.refreshJobsQueued}) active ${active} delayed ${delayed}, Z-API calls today ${instance.zapiCallsToday}${cap}`,
    );
  }
  for (const [id, count] of unconfigured) console.log(`instance ${id} (not configured): due ${count}, not swept`);
}

function formatSweep(sweep: Sweep): string {
  const state = sweep.finishedAt ? `finished ${sweep.finishedAt.toISOString()}` : 'still running';
  const perInstance = Object.entries(sweep.progress)
    .map(([id, progress]) => `${id} ${progress.queued}${progress.deferred ? ' (deferred: daily budget)' : ''}`)
    .join(', ');
  return `#${sweep.id} (${sweep.trigger}) started ${sweep.startedAt.toISOString()}, ${state}, queued ${sweep.queued}${perInstance ? ` [${perInstance}]` : ''}`;
}
