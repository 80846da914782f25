import { describeError } from '../../errors.js';
import { archivePayload, type ArchiveJobPayload } from '../../jobs/archive-job.js';
import { readPhonesFile } from '../read-phones.js';
import { openContainer, resolveInstance, UsageError } from '../cli-context.js';

export interface EnqueueOptions {
  instance?: string;
  file?: string;
}

export async function enqueueCommand(phones: string[], options: EnqueueOptions): Promise<void> {
  const inputs = [...phones, ...(options.file ? await readPhonesFile(options.file) : [])];
  if (inputs.length === 0) throw new UsageError('give at least one PHONE or --file FILE');

  const container = await openContainer();
  try {
    const instanceId = await resolveInstance(container, options.instance);
    const payloads: ArchiveJobPayload[] = [];
    const rejected: string[] = [];
    for (const input of inputs) {
      try {
        payloads.push(archivePayload(instanceId, input));
      } catch (error) {
        rejected.push(describeError(error));
      }
    }
    const phonesToEnqueue = [...new Set(payloads.map((payload) => payload.phone))];
    const created = await container.contacts.ensureContacts(instanceId, phonesToEnqueue);
    const queued = await container.archiveQueues().enqueue(payloads);

    console.log(`instance ${instanceId}: ${inputs.length} phone(s) read`);
    console.log(`  new contacts:   ${created}`);
    console.log(`  queued:         ${queued}`);
    console.log(`  already queued: ${phonesToEnqueue.length - queued}`);
    console.log(`  rejected:       ${rejected.length}`);
    for (const reason of rejected) console.log(`    - ${reason}`);
    if (rejected.length > 0 && payloads.length === 0) process.exitCode = 1;
  } finally {
    await container.close();
  }
}
