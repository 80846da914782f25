import { EventEmitter } from 'node:events';
import type { ZapiInstance } from '../config.js';
import type { InstanceRow, InstancesRepository, InstanceSource } from '../db/instances-repository.js';
import { NotificationChannel } from '../db/notification-channel.js';
import { splitSchema } from '../db/prisma-client.js';
import type { Logger } from '../logger.js';
import type { TokenCipher } from './token-cipher.js';

/** The trigger's channel (migration 20261203000000_instances); the payload is the schema. */
export const INSTANCES_CHANNEL = 'avatar_archiver_instances_changed';

/** An instance this process may work for: enabled, with its token in clear (memory only). */
export interface ActiveInstance extends ZapiInstance {
  source: InstanceSource | 'env';
  /** Null: the global setting. */
  maxRequestsPerSecond: number | null;
  maxRequestsPerDay: number | null;
}

export interface DirectoryChange {
  added: string[];
  /** Disabled, removed, or no longer decryptable. */
  removed: string[];
  /** Still active, with other limits (its worker restarts with the new pace). */
  changed: string[];
  /** Still active, with another token only: read per call, so no worker restarts. */
  rotated: string[];
}

export interface InstanceDirectoryDeps {
  repository: Pick<InstancesRepository, 'list' | 'version'>;
  cipher: TokenCipher | null;
  envInstances: readonly ZapiInstance[];
  logger: Logger;
  /** For LISTEN; null: no notifications, only the periodic check (tests, one-shot commands). */
  databaseUrl: string | null;
  reloadIntervalMs: number;
}

/**
 * The enabled instances, as every running process sees them: the environment's, plus the
 * registry's rows decrypted once per change. A change reaches it through the table's
 * NOTIFY at commit (milliseconds), a re-read after any reconnect, and a cheap check of the
 * table's version every INSTANCE_RELOAD_INTERVAL as the last safety net. An id in both the
 * environment and the registry is the environment's.
 */
export class InstanceDirectory extends EventEmitter<{ changed: [DirectoryChange] }> {
  private active = new Map<string, ActiveInstance>();
  private loaded = false;
  private version: string | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private reloadAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private channel: NotificationChannel | undefined;
  /** Decrypted once per ciphertext: a change to one row of 10,000 decrypts one. */
  private readonly tokens = new Map<string, { ciphertext: string; token: string }>();
  /** Rows already reported as unreadable, so each is logged once per ciphertext. */
  private readonly reported = new Set<string>();

  constructor(private readonly deps: InstanceDirectoryDeps) {
    super();
  }

  get(id: string): ActiveInstance | undefined {
    this.assertLoaded();
    return this.active.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  ids(): string[] {
    this.assertLoaded();
    return [...this.active.keys()];
  }

  all(): ActiveInstance[] {
    this.assertLoaded();
    return [...this.active.values()];
  }

  /** Reads the registry now; concurrent calls share one read, and one more follows if asked meanwhile. */
  reload(): Promise<void> {
    if (this.reloadAgain) return this.reloading;
    this.reloadAgain = true;
    this.reloading = this.reloading.then(async () => {
      this.reloadAgain = false;
      await this.read();
    });
    return this.reloading;
  }

  /** Keeps the directory current until stop(): notifications plus the periodic check. */
  async watch(): Promise<void> {
    if (this.timer) return;
    const { databaseUrl, logger } = this.deps;
    if (databaseUrl) {
      const { schema } = splitSchema(databaseUrl);
      this.channel = new NotificationChannel({
        databaseUrl,
        channel: INSTANCES_CHANNEL,
        applicationName: 'avatar-archiver instances',
        logger,
        onNotification: (payload) => {
          if (payload === schema) this.reloadLogged();
        },
        onReconnect: () => this.reloadLogged(),
      });
      await this.channel.start();
    }
    // Read after LISTEN is active, so no change falls between the two.
    await this.reload();
    this.timer = setInterval(() => void this.checkVersion(), this.deps.reloadIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.channel?.stop();
    this.channel = undefined;
    await this.reloading.catch(() => undefined);
  }

  private reloadLogged(): void {
    this.reload().catch((error: unknown) =>
      this.deps.logger.warn({ error: describe(error) }, 'instance registry could not be read: keeping the last view'),
    );
  }

  private async checkVersion(): Promise<void> {
    try {
      if ((await this.deps.repository.version()) !== this.version) await this.reload();
    } catch (error) {
      this.deps.logger.warn({ error: describe(error) }, 'instance registry could not be read: keeping the last view');
    }
  }

  private async read(): Promise<void> {
    const version = await this.deps.repository.version();
    const rows = await this.deps.repository.list();
    const next = new Map<string, ActiveInstance>();
    for (const instance of this.deps.envInstances) {
      next.set(instance.id, { ...instance, source: 'env', maxRequestsPerSecond: null, maxRequestsPerDay: null });
    }
    for (const row of rows) {
      if (!row.enabled) continue;
      if (next.has(row.id)) {
        this.reportOnce(row, 'instance is both in the environment and in the registry: the environment wins');
        continue;
      }
      const token = this.decrypt(row);
      if (token === null) continue;
      next.set(row.id, {
        id: row.id,
        token,
        source: row.source,
        maxRequestsPerSecond: row.maxRequestsPerSecond,
        maxRequestsPerDay: row.maxRequestsPerDay,
      });
    }
    for (const id of this.tokens.keys()) if (!next.has(id)) this.tokens.delete(id);
    const change = diff(this.active, next);
    this.active = next;
    this.version = version;
    const first = !this.loaded;
    this.loaded = true;
    if (!first && Object.values(change).some((ids) => ids.length > 0)) {
      this.deps.logger.info(
        {
          added: change.added.length,
          removed: change.removed.length,
          changed: change.changed.length,
          rotated: change.rotated.length,
        },
        'instances changed',
      );
      this.emit('changed', change);
    }
  }

  private decrypt(row: InstanceRow): string | null {
    if (!this.deps.cipher) {
      this.reportOnce(row, 'instance in the registry but INSTANCE_TOKEN_KEY is not set: skipped');
      return null;
    }
    const cached = this.tokens.get(row.id);
    if (cached?.ciphertext === row.tokenCiphertext) return cached.token;
    try {
      const token = this.deps.cipher.decrypt(row.id, row.tokenCiphertext);
      this.tokens.set(row.id, { ciphertext: row.tokenCiphertext, token });
      return token;
    } catch (error) {
      this.reportOnce(row, `instance skipped: ${describe(error)}`);
      return null;
    }
  }

  private reportOnce(row: InstanceRow, message: string): void {
    const key = `${row.id}\n${row.tokenCiphertext}\n${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.deps.logger.error({ instance: row.id }, message);
  }

  private assertLoaded(): void {
    if (!this.loaded) throw new Error('the instance directory was used before it was loaded (Container.openInstances)');
  }
}

function diff(before: Map<string, ActiveInstance>, after: Map<string, ActiveInstance>): DirectoryChange {
  const change: DirectoryChange = { added: [], removed: [], changed: [], rotated: [] };
  for (const [id, instance] of after) {
    const previous = before.get(id);
    if (!previous) change.added.push(id);
    else if (
      previous.maxRequestsPerSecond !== instance.maxRequestsPerSecond ||
      previous.maxRequestsPerDay !== instance.maxRequestsPerDay
    )
      change.changed.push(id);
    else if (previous.token !== instance.token) change.rotated.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) change.removed.push(id);
  return change;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
