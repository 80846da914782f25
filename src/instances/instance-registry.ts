import type { ZapiInstance } from '../config.js';
import type { InstanceRow, InstanceSource, InstancesRepository } from '../db/instances-repository.js';
import { TokenCipherError, type TokenCipher } from './token-cipher.js';
import type { InstanceChange, NewInstance } from './instance-input.js';

/** An instance as the CLI and the HTTP API show it: never its token. */
export interface InstanceView {
  id: string;
  label: string | null;
  enabled: boolean;
  source: InstanceSource | 'env';
  /** Null: the global ZAPI_MAX_REQUESTS_PER_SECOND / ZAPI_MAX_REQUESTS_PER_DAY. */
  maxRequestsPerSecond: number | null;
  maxRequestsPerDay: number | null;
  createdAt: string | null;
  updatedAt: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
}

export type RegistryErrorCode = 'not_found' | 'exists' | 'env_configured' | 'no_key';

/** A request the registry refuses; `code` maps to an HTTP status and a CLI message. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RekeyResult {
  rekeyed: number;
  alreadyCurrent: number;
  /** Rows that decrypt with no configured key: left as they are. */
  failed: { id: string; reason: string }[];
}

export const DISABLED_BY_HAND = 'disabled by hand';

/**
 * The instance registry's rules: tokens are encrypted before they reach the repository, the
 * environment's instances are read-only here, and no answer carries a token. Running
 * processes learn of every change from the table's trigger (see InstanceDirectory).
 */
export class InstanceRegistry {
  constructor(
    private readonly repository: InstancesRepository,
    private readonly cipher: TokenCipher | null,
    private readonly envInstances: readonly ZapiInstance[],
    /** Runs after each committed write: a service's own directory reloads, so its next request sees the change. */
    private readonly afterWrite: () => Promise<void> = async () => undefined,
  ) {}

  async list(): Promise<InstanceView[]> {
    const rows = await this.repository.list();
    const envIds = new Set(this.envInstances.map((instance) => instance.id));
    return [
      ...this.envInstances.map((instance) => envView(instance.id)),
      ...rows.filter((row) => !envIds.has(row.id)).map(rowView),
    ].sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<InstanceView> {
    if (this.isEnv(id)) return envView(id);
    const row = await this.repository.find(id);
    if (!row) throw new RegistryError('not_found', `no instance ${id}`);
    return rowView(row);
  }

  async add(input: NewInstance, source: InstanceSource): Promise<InstanceView> {
    const { added } = await this.addMany([input], source);
    if (added.length === 0) throw new RegistryError('exists', `instance ${input.id} is already registered`);
    return this.get(input.id);
  }

  /** One statement for the lot; ids already registered are reported, not changed. */
  async addMany(inputs: NewInstance[], source: InstanceSource): Promise<{ added: string[]; existing: string[] }> {
    const cipher = this.requireCipher();
    for (const input of inputs) this.refuseEnv(input.id);
    const added = await this.repository.insertMany(
      inputs.map((input) => ({
        id: input.id,
        tokenCiphertext: cipher.encrypt(input.id, input.token),
        label: input.label ?? null,
        maxRequestsPerSecond: input.maxRequestsPerSecond ?? null,
        maxRequestsPerDay: input.maxRequestsPerDay ?? null,
        source,
      })),
    );
    if (added.length > 0) await this.afterWrite();
    const addedSet = new Set(added);
    return { added, existing: inputs.map((input) => input.id).filter((id) => !addedSet.has(id)) };
  }

  async set(id: string, change: InstanceChange, disabledReason = DISABLED_BY_HAND): Promise<InstanceView> {
    this.refuseEnv(id);
    const row = await this.repository.update(id, {
      ...(change.token !== undefined ? { tokenCiphertext: this.requireCipher().encrypt(id, change.token) } : {}),
      ...(change.label !== undefined ? { label: change.label } : {}),
      ...(change.maxRequestsPerSecond !== undefined ? { maxRequestsPerSecond: change.maxRequestsPerSecond } : {}),
      ...(change.maxRequestsPerDay !== undefined ? { maxRequestsPerDay: change.maxRequestsPerDay } : {}),
      ...(change.enabled === undefined
        ? {}
        : { enabled: change.enabled ? { value: true as const } : { value: false as const, reason: disabledReason } }),
    });
    if (!row) throw new RegistryError('not_found', `no instance ${id}`);
    await this.afterWrite();
    return rowView(row);
  }

  async remove(id: string): Promise<void> {
    this.refuseEnv(id);
    if (!(await this.repository.delete(id))) throw new RegistryError('not_found', `no instance ${id}`);
    await this.afterWrite();
  }

  /** Every stored token in clear (null: unreadable with the configured keys), in one read. */
  async storedTokens(): Promise<Map<string, string | null>> {
    const cipher = this.requireCipher();
    const tokens = new Map<string, string | null>();
    for (const row of await this.repository.list()) {
      try {
        tokens.set(row.id, cipher.decrypt(row.id, row.tokenCiphertext));
      } catch (error) {
        if (!(error instanceof TokenCipherError)) throw error;
        tokens.set(row.id, null);
      }
    }
    return tokens;
  }

  /** Re-encrypts every row still under a previous key with INSTANCE_TOKEN_KEY. */
  async rekey(): Promise<RekeyResult> {
    const cipher = this.requireCipher();
    const result: RekeyResult = { rekeyed: 0, alreadyCurrent: 0, failed: [] };
    for (const row of await this.repository.list()) {
      if (cipher.isCurrent(row.tokenCiphertext)) {
        result.alreadyCurrent += 1;
        continue;
      }
      try {
        const next = cipher.encrypt(row.id, cipher.decrypt(row.id, row.tokenCiphertext));
        // A token rotated since the read is already under the current key.
        if (await this.repository.replaceCiphertext(row.id, row.tokenCiphertext, next)) result.rekeyed += 1;
        else result.alreadyCurrent += 1;
      } catch (error) {
        if (!(error instanceof TokenCipherError)) throw error;
        result.failed.push({ id: row.id, reason: error.message });
      }
    }
    return result;
  }

  private isEnv(id: string): boolean {
    return this.envInstances.some((instance) => instance.id === id);
  }

  private refuseEnv(id: string): void {
    if (this.isEnv(id)) {
      throw new RegistryError(
        'env_configured',
        `instance ${id} is configured in the environment (ZAPI_INSTANCE_ID/ZAPI_INSTANCES): change it there`,
      );
    }
  }

  private requireCipher(): TokenCipher {
    if (!this.cipher) {
      throw new RegistryError(
        'no_key',
        'INSTANCE_TOKEN_KEY is not set: the registry keeps tokens encrypted (e.g. INSTANCE_TOKEN_KEY=$(openssl rand -base64 32))',
      );
    }
    return this.cipher;
  }
}

function envView(id: string): InstanceView {
  return {
    id,
    label: null,
    enabled: true,
    source: 'env',
    maxRequestsPerSecond: null,
    maxRequestsPerDay: null,
    createdAt: null,
    updatedAt: null,
    disabledAt: null,
    disabledReason: null,
  };
}

function rowView(row: InstanceRow): InstanceView {
  return {
    id: row.id,
    label: row.label,
    enabled: row.enabled,
    source: row.source,
    maxRequestsPerSecond: row.maxRequestsPerSecond,
    maxRequestsPerDay: row.maxRequestsPerDay,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    disabledAt: row.disabledAt?.toISOString() ?? null,
    disabledReason: row.disabledReason,
  };
}
