import { openContainer, UsageError } from '../cli-context.js';

export interface FailedOptions {
  instance?: string;
  reason?: string;
  limit?: string;
  json?: boolean;
}

/** Lists FAILED contacts, newest failure first, with their reason and when. */
export async function failedCommand(options: FailedOptions): Promise<void> {
  const limit = Number(options.limit ?? '100');
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be 1-10000');
  const container = await openContainer();
  try {
    const { contacts, next } = await container.intake
      .deadLetters()
      .list({ instanceId: options.instance, reason: options.reason }, limit);
    if (options.json) {
      console.log(JSON.stringify({ contacts, more: next !== null }, null, 2));
      return;
    }
    for (const contact of contacts) {
      console.log(
        `${contact.instanceId}  ${contact.phone}  ${contact.lastErrorAt ?? '-'}  ${contact.lastError ?? '-'}`,
      );
    }
    console.log(`${contacts.length} failed contact(s)${next === null ? '' : ` shown; more with a larger --limit`}`);
  } finally {
    await container.close();
  }
}

export interface RetryOptions {
  failed?: boolean;
  instance?: string;
  reason?: string;
}

/** Queues FAILED contacts again, ahead of any sweep (after whatever failed them is fixed). */
export async function retryCommand(options: RetryOptions): Promise<void> {
  if (!options.failed)
    throw new UsageError('say what to retry: --failed (every FAILED contact, or --instance/--reason)');
  const container = await openContainer();
  try {
    const result = await container.intake.deadLetters().retry({ instanceId: options.instance, reason: options.reason });
    console.log(
      `queued ${result.queued} failed contact(s) again; ${result.alreadyQueued} already queued; ${result.skipped} skipped (instance not configured or phone invalid)`,
    );
  } finally {
    await container.close();
  }
}
