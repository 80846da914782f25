import { EventEmitter } from 'node:events';
import pg from 'pg';
import { jobsForDueContacts } from '../jobs/archive-job.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { Logger } from '../logger.js';
import type { ContactChecksRepository } from './contact-checks-repository.js';
import { splitSchema } from './prisma-client.js';

/**
 * The database hook's receiving end. The trigger of migration 20261126100000_new_contact_notify
 * sends one notification per row inserted into `contacts`, by any app in any language; this
 * listener queues those contacts at once (high priority), so a plain INSERT is archived in
 * seconds instead of at the next sweep.
 *
 * It holds one dedicated connection (a LISTEN needs a session of its own, so not one of
 * Prisma's pooled ones). Notifications arriving together are batched: a bulk INSERT of
 * 10,000 rows makes about 20 round trips (a read, then one enqueue call, per 500 rows), not
 * 10,000. The rows are read back by id rather than trusted from the payload: that drops rows
 * a worker has already checked (the pipeline's own upsert and `enqueue` insert rows too, and
 * queue them themselves), rows not due (an app may insert with a later next_check_at) and
 * deleted rows, and gives the phone the trigger leaves out when it is too long.
 *
 * Nothing here is needed for correctness: a notification sent while the connection is down
 * is lost (Postgres keeps none for a session that is not listening), and so is a batch that
 * fails to queue, but the row stays PENDING and due (next_check_at defaults to now()), so
 * the next sweep queues it. That is why a reconnect simply LISTENs again and replays nothing.
 */

/** The trigger's channel: one for every schema, the schema is in the payload (see the migration). */
export const NEW_CONTACT_CHANNEL = 'avatar_archiver_new_contact';

export interface NewContactListenerDeps {
  /** DATABASE_URL; its `?schema=` is the schema whose rows this listener takes. */
  databaseUrl: string;
  /** The enabled Z-API instances (InstanceDirectory); rows of others are left alone (the sweep ignores them too). */
  instances: { has(id: string): boolean };
  checks: Pick<ContactChecksRepository, 'rejectInvalidPhones'>;
  queues: Pick<ArchiveQueues, 'enqueue'>;
  logger: Logger;
  /** REFRESH_MAX_AGE: how long a contact with an invalid phone is left alone (as the sweep does). */
  maxAgeMs: number;
  /** How long the first notification of a batch waits for others. */
  batchWindowMs?: number;
  /** A batch is sent at once when it reaches this many contacts. */
  maxBatch?: number;
  /** Reconnect delays: the first, doubling up to the last. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  now?: () => Date;
}

export interface NewContactListenerEvents {
  /** A batch was handed to the archive queues: how many contacts it held. */
  queued: [count: number];
  /** Contacts marked FAILED for an invalid phone. */
  rejected: [count: number];
  /** LISTEN is active (after start() and after every reconnect). */
  listening: [];
  /** The connection was lost; a reconnect follows unless stopped. */
  disconnected: [];
}

interface NotificationPayload {
  schema?: unknown;
  id?: unknown;
  instance_id?: unknown;
}

interface ContactRow {
  id: number;
  instance_id: string;
  phone: string;
}

export class NewContactListener extends EventEmitter<NewContactListenerEvents> {
  /** Shows in pg_stat_activity.application_name (at most 63 bytes are kept). */
  readonly applicationName: string;
  private readonly connectionString: string;
  private readonly schema: string;
  private readonly table: string;
  private readonly logger: Logger;
  private readonly batchWindowMs: number;
  private readonly maxBatch: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly now: () => Date;

  private client: pg.Client | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private pending = new Set<number>();
  private batchTimer: NodeJS.Timeout | undefined;
  /** Batches are processed one after another; this is the last one's completion. */
  private processing: Promise<void> = Promise.resolve();
  private reconnecting: Promise<void> | undefined;
  private cancelBackoff: (() => void) | undefined;
  private readonly reportedInstances = new Set<string>();

  constructor(private readonly deps: NewContactListenerDeps) {
    super();
    const { connectionString, schema } = splitSchema(deps.databaseUrl);
    this.connectionString = connectionString;
    this.schema = schema;
    this.table = `${pg.escapeIdentifier(schema)}."contacts"`;
    this.applicationName = clipBytes(`avatar-archiver listen ${schema}`, 63);
    this.logger = deps.logger.child({ component: 'new-contact-listener' });
    this.batchWindowMs = deps.batchWindowMs ?? 50;
    this.maxBatch = deps.maxBatch ?? 500;
    this.reconnectMinMs = deps.reconnectMinMs ?? 100;
    this.reconnectMaxMs = deps.reconnectMaxMs ?? 10_000;
    this.now = deps.now ?? (() => new Date());
  }

  /** Resolves once LISTEN is active; rejects if the first connection fails. */
  async start(): Promise<void> {
    if (this.started) throw new Error('the new-contact listener was already started');
    this.started = true;
    const client = await this.open();
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.logger.info({ channel: NEW_CONTACT_CHANNEL, schema: this.schema }, 'listening for new contacts');
    this.emit('listening');
  }

  /** Queues what has arrived so far, then closes the connection; no reconnect after this. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.cancelBackoff?.();
      await this.reconnecting;
      await this.flush();
      const client = this.client;
      this.client = undefined;
      await client?.end().catch(() => undefined);
    })();
    return this.stopping;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: this.applicationName,
      connectionTimeoutMillis: 10_000,
      // The connection is idle between notifications: keepalives notice a peer that vanished.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let ready = false;
    let ended = false;
    client.on('notification', (message) => this.onNotification(message));
    client.on('error', (error) => {
      if (ready) this.lost(client, error);
    });
    client.on('end', () => {
      ended = true;
      if (ready) this.lost(client);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${NEW_CONTACT_CHANNEL}`);
      if (ended) throw new Error('the connection closed right after LISTEN');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    ready = true;
    return client;
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.emit('disconnected');
    if (this.stopped) return;
    this.logger.warn(
      { error: error?.message },
      'new-contact listener lost its connection; reconnecting (rows inserted meanwhile are left to the sweep)',
    );
    this.reconnecting = this.reconnect().finally(() => (this.reconnecting = undefined));
  }

  private async reconnect(): Promise<void> {
    let delay = this.reconnectMinMs;
    for (let attempt = 1; !this.stopped; attempt += 1) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.cancelBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.cancelBackoff = undefined;
      if (this.stopped) return;
      try {
        const client = await this.open();
        if (this.stopped) {
          await client.end().catch(() => undefined);
          return;
        }
        this.client = client;
        this.logger.info({ attempts: attempt }, 'new-contact listener reconnected; listening again');
        this.emit('listening');
        return;
      } catch (error) {
        this.logger.debug(
          { error: error instanceof Error ? error.message : String(error), attempt },
          'reconnect failed',
        );
        delay = Math.min(delay * 2, this.reconnectMaxMs);
      }
    }
  }

  private onNotification(message: pg.Notification): void {
    if (this.stopped || message.channel !== NEW_CONTACT_CHANNEL) return;
    let payload: NotificationPayload;
    try {
      payload = JSON.parse(message.payload ?? '') as NotificationPayload;
    } catch {
      this.logger.warn({ payload: message.payload?.slice(0, 200) }, 'ignored a notification that is not JSON');
      return;
    }
    // Other schemas of the same database (other deployments, test runs) share the channel.
    if (payload === null || typeof payload !== 'object' || payload.schema !== this.schema) return;
    if (typeof payload.id !== 'number' || !Number.isSafeInteger(payload.id)) return;
    // Skipped before any read when the payload says so; null (too long to send) is decided on the row.
    if (typeof payload.instance_id === 'string' && !this.deps.instances.has(payload.instance_id)) {
      this.reportUnconfigured(payload.instance_id);
      return;
    }
    this.pending.add(payload.id);
    if (this.pending.size >= this.maxBatch) void this.flush();
    else this.batchTimer ??= setTimeout(() => void this.flush(), this.batchWindowMs);
  }

  /** Hands what is pending to the processing chain; resolves when everything so far is processed. */
  private flush(): Promise<void> {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.pending.size > 0) {
      const ids = [...this.pending];
      this.pending = new Set();
      this.processing = this.processing.then(() => this.process(ids));
    }
    return this.processing;
  }

  private async process(ids: number[]): Promise<void> {
    try {
      const readAt = this.now();
      const rows = await this.readDue(ids);
      const configured: ContactRow[] = [];
      for (const row of rows) {
        if (this.deps.instances.has(row.instance_id)) configured.push(row);
        else this.reportUnconfigured(row.instance_id);
      }
      const { payloads, invalid } = jobsForDueContacts(
        // readDue takes only contacts never checked.
        configured.map((row) => ({ id: row.id, instanceId: row.instance_id, phone: row.phone, lastCheckedAt: null })),
        readAt,
      );
      if (invalid.length > 0) {
        const at = this.now();
        await this.deps.checks.rejectInvalidPhones(invalid, at, new Date(at.getTime() + this.deps.maxAgeMs));
        this.logger.warn({ contacts: invalid.length }, 'new contacts with an invalid phone marked FAILED');
        this.emit('rejected', invalid.length);
      }
      if (payloads.length > 0) {
        const added = await this.deps.queues.enqueue(payloads, 'now');
        this.logger.debug({ contacts: payloads.length, added }, 'new contacts queued');
        this.emit('queued', payloads.length);
      }
    } catch (error) {
      this.logger.warn(
        { contacts: ids.length, error: error instanceof Error ? error.message : String(error) },
        'could not queue new contacts; the sweep will pick them up',
      );
    }
  }

  /**
   * The rows still waiting for their first check and due, read on the listening connection. A
   * minute of slack: an app may set next_check_at from its own clock, a little ahead of ours.
   */
  private async readDue(ids: number[]): Promise<ContactRow[]> {
    const client = this.client;
    if (!client) throw new Error('no database connection (reconnecting)');
    const { rows } = await client.query<ContactRow>(
      `SELECT id, instance_id, phone FROM ${this.table}
       WHERE id = ANY($1::int[]) AND avatar_status = 'PENDING' AND last_checked_at IS NULL
         AND next_check_at <= now() + interval '1 minute'`,
      [ids],
    );
    return rows;
  }

  private reportUnconfigured(instanceId: string): void {
    if (this.reportedInstances.has(instanceId)) return;
    this.reportedInstances.add(instanceId);
    this.logger.warn(
      { instance: instanceId.slice(0, 128) },
      'new contacts of an instance this worker does not have are left alone (logged once per instance)',
    );
  }
}

/** Postgres keeps 63 bytes of application_name, cut at a character boundary; so does this. */
function clipBytes(text: string, maxBytes: number): string {
  let clipped = text;
  while (Buffer.byteLength(clipped) > maxBytes) clipped = [...clipped].slice(0, -1).join('');
  return clipped;
}
