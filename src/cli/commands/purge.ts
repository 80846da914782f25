import { normalizePhone } from '../../domain/phone.js';
import { openContainer, resolveInstance, UsageError } from '../cli-context.js';

export interface PurgeOptions {
  instance?: string;
  keepContact?: boolean;
  optOut?: boolean;
}

/** Erases contacts (LGPD / GDPR): rows, versions and the objects nobody else references, with an audit row. */
export async function purgeCommand(phones: string[], options: PurgeOptions): Promise<void> {
  if (phones.length === 0) throw new UsageError('give at least one PHONE');
  if (Boolean(options.keepContact) !== Boolean(options.optOut)) {
    throw new UsageError('--keep-contact and --opt-out go together: keep the row, opted out of archiving for good');
  }
  const container = await openContainer({ storage: true });
  try {
    if (options.instance === undefined) throw new UsageError('--instance ID is required: erasure names its instance');
    const instanceId = await resolveInstance(container, options.instance, false);
    const eraser = container.erasure.contactEraser();
    let missing = 0;
    for (const raw of phones) {
      const phone = normalizePhone(raw);
      const result = await eraser.erase(instanceId, phone, { keepContact: options.keepContact ?? false });
      if (!result.found) missing += 1;
      console.log(
        result.found
          ? `${phone}: erased ${result.versionsDeleted} version(s), ${result.objectsDeleted} object(s)${result.keptContact ? '; contact kept, opted out' : ''}`
          : `${phone}: no such contact for instance ${instanceId}`,
      );
    }
    if (missing === phones.length) process.exitCode = 1;
  } finally {
    await container.close();
  }
}
