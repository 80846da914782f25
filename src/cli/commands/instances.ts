import { readFile } from 'node:fs/promises';
import type { ZodType } from 'zod';
import type { Container } from '../../container.js';
import { parseInstanceCsv } from '../../instances/instance-csv.js';
import { instanceChange, newInstance, type InstanceChange, type NewInstance } from '../../instances/instance-input.js';
import type { InstanceView } from '../../instances/instance-registry.js';
import { openContainer, UsageError } from '../cli-context.js';

export interface InstanceFields {
  token?: string;
  label?: string;
  maxRps?: string;
  maxPerDay?: string;
}

/** `instances add`: registers one instance; its workers start within seconds in every running process. */
export async function instancesAddCommand(id: string, options: InstanceFields): Promise<void> {
  if (options.token === undefined) throw new UsageError('--token is required (or --token - to read it from stdin)');
  const input = validate(newInstance, {
    id,
    token: await tokenFrom(options.token),
    label: options.label,
    maxRequestsPerSecond: integer('--max-rps', options.maxRps),
    maxRequestsPerDay: integer('--max-per-day', options.maxPerDay),
  } satisfies Partial<NewInstance>);
  await withContainer({}, async (container) => {
    const view = await container.tenancy.registry().add(input, 'cli');
    console.log(`added instance ${view.id}${view.label ? ` (${view.label})` : ''}`);
  });
}

/** `instances import FILE`: `id,token[,label]` rows; a bad row is reported and the rest still go in. */
export async function instancesImportCommand(file: string): Promise<void> {
  const { instances, problems } = parseInstanceCsv(await readFile(file, 'utf8'));
  for (const problem of problems) console.error(`${file}:${problem.line}: ${problem.message}`);
  await withContainer({}, async (container) => {
    const { added, existing } = await container.tenancy.registry().addMany(instances, 'cli');
    const lineOf = new Map(instances.map((instance) => [instance.id, instance.line]));
    for (const id of existing)
      console.error(`${file}:${lineOf.get(id)}: instance ${id} is already registered: left as it is`);
    console.log(
      `imported ${added.length} instance(s); ${existing.length} already registered; ${problems.length} bad row(s)`,
    );
    if (problems.length > 0) process.exitCode = 1;
  });
}

export async function instancesListCommand(options: { json?: boolean }): Promise<void> {
  await withContainer({}, async (container) => {
    const instances = await container.tenancy.registry().list();
    if (options.json) {
      console.log(JSON.stringify(instances, null, 2));
      return;
    }
    for (const instance of instances) console.log(describe(instance));
    console.log(`${instances.length} instance(s), ${instances.filter((instance) => instance.enabled).length} enabled`);
  });
}

/** `instances set ID`: `--label ''` drops the label, `--max-rps default` goes back to the global setting. */
export async function instancesSetCommand(id: string, options: InstanceFields & { enabled?: string }): Promise<void> {
  const change = validate(instanceChange, {
    token: options.token === undefined ? undefined : await tokenFrom(options.token),
    label: options.label === undefined ? undefined : options.label.trim() === '' ? null : options.label,
    maxRequestsPerSecond: limit('--max-rps', options.maxRps),
    maxRequestsPerDay: limit('--max-per-day', options.maxPerDay),
    enabled: options.enabled === undefined ? undefined : bool('--enabled', options.enabled),
  } satisfies InstanceChange);
  if (Object.values(change).every((value) => value === undefined)) {
    throw new UsageError('nothing to change: give --token, --label, --max-rps, --max-per-day or --enabled');
  }
  await withContainer({}, async (container) => {
    console.log(describe(await container.tenancy.registry().set(id, change)));
  });
}

/** `instances remove ID [--purge]`: see InstanceRemoval for the order of the steps. */
export async function instancesRemoveCommand(id: string, options: { purge?: boolean }): Promise<void> {
  const purge = options.purge ?? false;
  await withContainer({ storage: purge }, async (container) => {
    const result = await container.tenancy.removal().remove(id, { purge });
    console.log(
      `removed instance ${id}: ${result.jobsDropped} queued job(s) dropped` +
        (purge
          ? `; erased ${result.contactsErased} contact(s), ${result.versionsErased} version(s), ${result.objectsErased} object(s)`
          : '; its contacts are kept (add the instance again to resume them, or remove it with --purge)'),
    );
  });
}

/** `instances rekey`: every row under INSTANCE_TOKEN_KEY, so a previous key can be retired. */
export async function instancesRekeyCommand(): Promise<void> {
  await withContainer({}, async (container) => {
    const result = await container.tenancy.registry().rekey();
    for (const failure of result.failed) console.error(`instance ${failure.id}: ${failure.reason}`);
    console.log(
      `re-encrypted ${result.rekeyed} token(s); ${result.alreadyCurrent} already under the current key; ${result.failed.length} unreadable`,
    );
    if (result.failed.length > 0) process.exitCode = 1;
  });
}

async function withContainer(needs: { storage?: boolean }, run: (container: Container) => Promise<void>) {
  const container = await openContainer(needs);
  try {
    await run(container);
  } finally {
    await container.close();
  }
}

/** `-` reads the token from stdin, so it stays out of the shell's history and `ps`. */
async function tokenFrom(value: string): Promise<string> {
  if (value !== '-') return value;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function validate<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new UsageError(`${issue.path.join('.') || 'input'}: ${issue.message}`);
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number`);
  return Number(value);
}

function limit(flag: string, value: string | undefined): number | null | undefined {
  return value === 'default' ? null : integer(flag, value);
}

function bool(flag: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} takes true or false`);
}

function describe(instance: InstanceView): string {
  const limits = [
    instance.maxRequestsPerSecond === null ? null : `${instance.maxRequestsPerSecond}/s`,
    instance.maxRequestsPerDay === null ? null : `${instance.maxRequestsPerDay}/day`,
  ].filter(Boolean);
  return [
    instance.id,
    instance.enabled ? 'enabled' : `disabled (${instance.disabledReason ?? 'no reason'})`,
    instance.source,
    instance.label ?? '-',
    limits.length > 0 ? limits.join(' ') : 'default limits',
  ].join('  ');
}

/** `instances sync`: the partner listing into the registry, once, now (the worker does it on its own too). */
export async function instancesSyncCommand(): Promise<void> {
  await withContainer({}, async (container) => {
    const sync = container.tenancy.partnerSync();
    if (!sync) throw new UsageError("ZAPI_PARTNER_TOKEN is not set: the sync reads Z-API's integrator listing with it");
    const result = await sync.run();
    console.log(
      `listed ${result.listed}: added ${result.added}, updated ${result.updated}, re-enabled ${result.reenabled}, ` +
        `disabled ${result.disabled} (gone from the listing), unchanged ${result.unchanged}` +
        (result.env > 0 ? `, ${result.env} left to the environment` : '') +
        (result.unreadable > 0 ? `; ${result.unreadable} listing entries without a usable id or token` : ''),
    );
  });
}
