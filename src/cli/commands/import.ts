import type { ZapiInstance } from '../../config.js';
import type { Container } from '../../container.js';
import { firstDisplayName } from '../../domain/display-name.js';
import { describeError } from '../../errors.js';
import { archivePayload, type ArchiveJobPayload } from '../../jobs/archive-job.js';
import { InstanceBusyError, type ZapiCallBudget } from '../../jobs/zapi-call-budget.js';
import { ContactsPageError, readContactPages, type ZapiContactEntry } from '../../zapi/zapi-contacts.js';
import { openContainer, resolveInstance } from '../cli-context.js';
import { ratePerSecond, terminalProgressBar } from '../progress-bar.js';

export interface ImportOptions {
  instance?: string;
}

/** What one instance's import did, for the progress bar and the summary line. */
interface Tally {
  pages: number;
  read: number;
  created: number;
  queued: number;
  alreadyQueued: number;
  groups: number;
  lid: number;
  broadcast: number;
  invalid: number;
  duplicates: number;
}

type Skipped = 'groups' | 'lid' | 'broadcast' | 'invalid';

// `120363019502650977-group` (new) and `5511999999999-1623281429` (old) are group chats.
const GROUP = /-group$|^\d+-\d+$|@g\.us$/i;
const LID = /@lid$/i;
const BROADCAST = /broadcast|@newsletter$/i;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads every contact Z-API knows for an instance (its WhatsApp's contact list), creates
 * the ones Postgres lacks and queues all of them at the priority of new contacts. Every
 * page request takes its place in the instance's Z-API call budget, like every lookup.
 * Instances are imported one after the other; one that fails does not stop the others.
 */
export async function importCommand(options: ImportOptions): Promise<void> {
  const container = await openContainer();
  try {
    const ids =
      options.instance === undefined
        ? (await container.openInstances()).ids()
        : [await resolveInstance(container, options.instance)];
    for (const id of ids) {
      const instance = container.instances.get(id)!;
      if (!(await importInstance(container, instance))) process.exitCode = 1;
    }
  } finally {
    await container.close();
  }
}

/** False when Z-API failed for good on this instance (reported on stderr). */
async function importInstance(container: Container, instance: ZapiInstance): Promise<boolean> {
  const queues = container.archiveQueues();
  // Producers do not buffer commands while Redis connects; the budget shares their connection.
  await queues.queue.waitUntilReady();
  const budget = container.zapi.budget();
  const tally: Tally = {
    pages: 0,
    read: 0,
    created: 0,
    queued: 0,
    alreadyQueued: 0,
    groups: 0,
    lid: 0,
    broadcast: 0,
    invalid: 0,
    duplicates: 0,
  };
  const seen = new Set<string>();
  const started = Date.now();
  const bar = terminalProgressBar(
    'import {instance} | {pages} pages | {read} contacts read | {queued} queued | {rate} contacts/s',
  );
  const progress = () => ({
    instance: instance.id,
    pages: tally.pages,
    read: tally.read,
    queued: tally.queued,
    rate: ratePerSecond(tally.read, started),
  });
  bar?.start(1, 0, progress());

  try {
    const pages = readContactPages(container.zapi.contacts(), instance, {
      beforeRequest: () => waitForTurn(budget, instance.id),
      onRetry: ({ page, attempt, waitMs, error }) =>
        container.logger.warn(
          { instance: instance.id, page, attempt, waitMs, error: describeError(error) },
          'Z-API contacts page failed; asking again',
        ),
    });
    for await (const { entries } of pages) {
      tally.pages += 1;
      tally.read += entries.length;
      const contacts = accept(instance.id, entries, tally, seen);
      if (contacts.length > 0) {
        tally.created += await container.contacts.ensureContacts(
          instance.id,
          contacts.map(({ payload, name }) => ({ phone: payload.phone, name })),
        );
        const queued = await queues.enqueue(
          contacts.map(({ payload }) => payload),
          'now',
        );
        tally.queued += queued;
        tally.alreadyQueued += contacts.length - queued;
      }
      bar?.update(progress());
    }
  } catch (error) {
    if (!(error instanceof ContactsPageError)) throw error;
    bar?.stop();
    console.log(`${summary(instance.id, tally)}; stopped at page ${error.page}`);
    console.error(`error: instance ${instance.id}: ${error.message}`);
    return false;
  }
  bar?.stop();
  console.log(summary(instance.id, tally));
  return true;
}

interface ImportedContact {
  payload: ArchiveJobPayload;
  name: string | null;
}

/** The entries worth archiving, as job payloads with their names; the rest are counted by kind. */
function accept(instanceId: string, entries: ZapiContactEntry[], tally: Tally, seen: Set<string>): ImportedContact[] {
  const contacts: ImportedContact[] = [];
  for (const { phone, ...names } of entries) {
    const skipped = skipReason(phone);
    if (skipped) {
      tally[skipped] += 1;
      continue;
    }
    let payload: ArchiveJobPayload;
    try {
      payload = archivePayload(instanceId, phone!);
    } catch {
      tally.invalid += 1;
      continue;
    }
    if (seen.has(payload.phone)) {
      tally.duplicates += 1;
      continue;
    }
    seen.add(payload.phone);
    contacts.push({ payload, name: contactName(names) });
  }
  return contacts;
}

/**
 * As Z-API documents the fields: the name in the instance's address book (full, then first
 * name only), else the one the contact set in WhatsApp (notify), else the vCard's.
 */
function contactName(entry: Omit<ZapiContactEntry, 'phone'>): string | null {
  return firstDisplayName(entry.name, entry.short, entry.notify, entry.vname);
}

function skipReason(phone: string | null): Skipped | undefined {
  if (phone === null || phone.trim() === '') return 'invalid';
  if (GROUP.test(phone)) return 'groups';
  if (LID.test(phone)) return 'lid';
  if (BROADCAST.test(phone)) return 'broadcast';
  return undefined;
}

/** A CLI may wait its turn in place: it holds no worker slot. */
async function waitForTurn(budget: ZapiCallBudget, instanceId: string): Promise<void> {
  for (;;) {
    try {
      await budget.takeCall(instanceId);
      return;
    } catch (error) {
      if (!(error instanceof InstanceBusyError)) throw error;
      await sleep(error.retryInMs);
    }
  }
}

function summary(instanceId: string, tally: Tally): string {
  const skipped = [
    count(tally.groups, 'group'),
    `${tally.lid} @lid`,
    `${tally.broadcast} broadcast/newsletter`,
    `${tally.invalid} invalid`,
    ...(tally.duplicates > 0 ? [count(tally.duplicates, 'duplicate')] : []),
  ];
  return (
    `instance ${instanceId}: ${count(tally.read, 'contact')} read in ${count(tally.pages, 'page')}, ` +
    `${tally.created} new, ${tally.queued} queued, ${tally.alreadyQueued} already queued, ` +
    `skipped ${skipped.join(', ')}`
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
