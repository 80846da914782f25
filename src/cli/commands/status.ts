import { normalizePhone } from '../../domain/phone.js';
import { createContainer, resolveInstance } from '../cli-context.js';

export interface StatusOptions {
  instance?: string;
  json?: boolean;
}

export async function statusCommand(phone: string | undefined, options: StatusOptions): Promise<void> {
  const container = createContainer();
  try {
    if (phone === undefined) {
      const counts = await container.contacts.countByStatus(options.instance);
      const queue = await container.archiveQueue().counts();
      if (options.json) {
        console.log(JSON.stringify({ instance: options.instance ?? null, contacts: counts, queue }, null, 2));
        return;
      }
      console.log(`contacts${options.instance ? ` of instance ${options.instance}` : ''}:`);
      for (const [status, count] of Object.entries(counts)) console.log(`  ${status.padEnd(12)} ${count}`);
      console.log('queue:');
      for (const [state, count] of Object.entries(queue)) console.log(`  ${state.padEnd(12)} ${count}`);
      return;
    }
    const instanceId = resolveInstance(container.config, options.instance, false);
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
      ['last_checked_at', contact.lastCheckedAt?.toISOString()],
      ['last_error', contact.lastError],
      ['last_error_at', contact.lastErrorAt?.toISOString()],
      ['consecutive_failures', contact.consecutiveFailures],
      ['consecutive_no_picture', contact.consecutiveNoPicture],
    ];
    for (const [name, value] of rows) console.log(`${name.padEnd(24)} ${value ?? '-'}`);
  } finally {
    await container.close();
  }
}
