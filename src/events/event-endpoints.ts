import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { TokenCipher } from '../instances/token-cipher.js';
import { endpointUrlProblem } from './endpoint-url.js';
import { EVENT_TYPES } from './event-types.js';
import { newSecret } from './webhook-signature.js';

export type EndpointErrorCode = 'not_found' | 'invalid' | 'no_key';

export class EndpointError extends Error {
  override readonly name = 'EndpointError';
  constructor(
    readonly code: EndpointErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** An endpoint as the API and the CLI show it: never its secret. */
export interface EndpointView {
  id: string;
  url: string;
  description: string | null;
  /** Empty: every event type. */
  events: string[];
  /** Empty: every instance. */
  instanceIds: string[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  /** Until when the secret before the last rotation still signs; null: no grace period running. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewEndpoint {
  url: string;
  events?: string[] | undefined;
  instanceIds?: string[] | undefined;
  description?: string | null | undefined;
}

export interface EndpointChange extends Partial<NewEndpoint> {
  enabled?: boolean | undefined;
  rotateSecret?: boolean | undefined;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'dead';

export interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export interface EndpointsOptions {
  pool: pg.Pool;
  /** INSTANCE_TOKEN_KEY's cipher; null: endpoints cannot be created nor signed for. */
  cipher: TokenCipher | null;
  allowPrivateNetworks: boolean;
  secretGraceMs: number;
}

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  events: string[] | null;
  instance_ids: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const VIEW_COLUMNS = `"id", "url", "description", "events", "instance_ids", "enabled", "disabled_reason",
  "disabled_at", "previous_secret_expires_at", "created_at", "updated_at"`;

/** Additional data of an endpoint's secret: a ciphertext copied onto another row does not decrypt. */
export function secretContext(endpointId: string): string {
  return `event-endpoint:${endpointId}`;
}

function newEndpointId(): string {
  return `ep_${randomBytes(16).toString('base64url')}`;
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function view(row: EndpointRow, now = Date.now()): EndpointView {
  const grace = row.previous_secret_expires_at;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events ?? [],
    instanceIds: row.instance_ids ?? [],
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    disabledAt: iso(row.disabled_at),
    previousSecretExpiresAt: grace !== null && grace.getTime() > now ? grace.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * The event_endpoints rows (plain SQL: the worker shares this pool and never loads Prisma).
 * Secrets are generated here, returned once by create() and rotate, and stored only
 * encrypted with INSTANCE_TOKEN_KEY.
 */
export class EventEndpoints {
  constructor(private readonly options: EndpointsOptions) {}

  async create(input: NewEndpoint): Promise<EndpointView & { secret: string }> {
    const cipher = this.requireCipher();
    this.validate(input);
    const id = newEndpointId();
    const secret = newSecret();
    const { rows } = await this.options.pool.query<EndpointRow>(
      `INSERT INTO "event_endpoints" ("id", "url", "description", "events", "instance_ids", "secret_ciphertext")
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${VIEW_COLUMNS}`,
      [
        id,
        input.url,
        input.description ?? null,
        unique(input.events ?? []),
        unique(input.instanceIds ?? []),
        cipher.encrypt(secretContext(id), secret),
      ],
    );
    return { ...view(rows[0]!), secret };
  }

  async list(): Promise<EndpointView[]> {
    const { rows } = await this.options.pool.query<EndpointRow>(
      `SELECT ${VIEW_COLUMNS} FROM "event_endpoints" ORDER BY "created_at", "id"`,
    );
    return rows.map((row) => view(row));
  }

  async get(id: string): Promise<EndpointView> {
    const { rows } = await this.options.pool.query<EndpointRow>(
      `SELECT ${VIEW_COLUMNS} FROM "event_endpoints" WHERE "id" = $1`,
      [id],
    );
    if (!rows[0]) throw notFound(id);
    return view(rows[0]);
  }

  /** Returns the endpoint, and the new secret when rotateSecret asked for one (shown this once). */
  async update(id: string, change: EndpointChange): Promise<EndpointView & { secret?: string }> {
    this.validate(change);
    const sets: string[] = [];
    const values: unknown[] = [id];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`"${column}" = $${values.length}`);
    };
    if (change.url !== undefined) set('url', change.url);
    if (change.description !== undefined) set('description', change.description);
    if (change.events !== undefined) set('events', unique(change.events));
    if (change.instanceIds !== undefined) set('instance_ids', unique(change.instanceIds));
    if (change.enabled === true) {
      set('enabled', true);
      sets.push(`"disabled_reason" = NULL`, `"disabled_at" = NULL`);
    } else if (change.enabled === false) {
      sets.push(
        `"disabled_reason" = CASE WHEN "enabled" THEN 'disabled by hand' ELSE "disabled_reason" END`,
        `"disabled_at" = CASE WHEN "enabled" THEN now() ELSE "disabled_at" END`,
        `"enabled" = false`,
      );
    }
    let secret: string | undefined;
    if (change.rotateSecret) {
      const cipher = this.requireCipher();
      secret = newSecret();
      set('secret_ciphertext', cipher.encrypt(secretContext(id), secret));
      if (this.options.secretGraceMs > 0) {
        sets.push(`"previous_secret_ciphertext" = "secret_ciphertext"`);
        set('previous_secret_expires_at', new Date(Date.now() + this.options.secretGraceMs));
      } else {
        sets.push(`"previous_secret_ciphertext" = NULL`, `"previous_secret_expires_at" = NULL`);
      }
    }
    sets.push(`"updated_at" = now()`);
    // SET's right-hand sides all read the row as it was: the previous secret is the old current one.
    const { rows } = await this.options.pool.query<EndpointRow>(
      `UPDATE "event_endpoints" SET ${sets.join(', ')} WHERE "id" = $1 RETURNING ${VIEW_COLUMNS}`,
      values,
    );
    if (!rows[0]) throw notFound(id);
    return secret === undefined ? view(rows[0]) : { ...view(rows[0]), secret };
  }

  /** Deletes the endpoint and its deliveries (their queued jobs find nothing and end). */
  async remove(id: string): Promise<void> {
    const { rowCount } = await this.options.pool.query(`DELETE FROM "event_endpoints" WHERE "id" = $1`, [id]);
    if (rowCount === 0) throw notFound(id);
  }

  /** Newest first; `before` is the id of the last delivery of the previous page. */
  async deliveries(
    endpointId: string,
    page: { limit: number; before?: string | undefined },
  ): Promise<{ deliveries: DeliveryView[]; next: string | null }> {
    await this.get(endpointId);
    const { rows } = await this.options.pool.query<{
      id: string;
      event_id: string;
      type: string;
      status: DeliveryStatus;
      attempts: number;
      last_status_code: number | null;
      last_error: string | null;
      last_attempt_at: Date | null;
      next_attempt_at: Date | null;
      delivered_at: Date | null;
      created_at: Date;
    }>(
      `SELECT d."id"::text AS "id", d."event_id"::text AS "event_id", e."type", d."status", d."attempts",
              d."last_status_code", d."last_error", d."last_attempt_at", d."next_attempt_at", d."delivered_at",
              d."created_at"
       FROM "event_deliveries" d JOIN "avatar_events" e ON e."id" = d."event_id"
       WHERE d."endpoint_id" = $1 AND ($2::bigint IS NULL OR d."id" < $2::bigint)
       ORDER BY d."id" DESC LIMIT $3`,
      [endpointId, page.before ?? null, page.limit + 1],
    );
    const deliveries = rows.slice(0, page.limit).map((row) => ({
      id: row.id,
      eventId: row.event_id,
      type: row.type,
      status: row.status,
      attempts: row.attempts,
      lastStatusCode: row.last_status_code,
      lastError: row.last_error,
      lastAttemptAt: iso(row.last_attempt_at),
      nextAttemptAt: iso(row.next_attempt_at),
      deliveredAt: iso(row.delivered_at),
      createdAt: row.created_at.toISOString(),
    }));
    return { deliveries, next: rows.length > page.limit ? deliveries.at(-1)!.id : null };
  }

  /**
   * Makes a delivery pending again with a fresh attempt budget (the caller queues it).
   * Refused while its endpoint is disabled: enable the endpoint first.
   */
  async resetForReplay(deliveryId: string): Promise<void> {
    const { rows } = await this.options.pool.query<{ enabled: boolean }>(
      `SELECT ep."enabled" FROM "event_deliveries" d JOIN "event_endpoints" ep ON ep."id" = d."endpoint_id"
       WHERE d."id" = $1`,
      [deliveryId],
    );
    if (!rows[0]) throw new EndpointError('not_found', `no delivery ${deliveryId}`);
    if (!rows[0].enabled) {
      throw new EndpointError('invalid', `the endpoint of delivery ${deliveryId} is disabled: enable it first`);
    }
    await this.options.pool.query(
      `UPDATE "event_deliveries" SET "status" = 'pending', "attempts" = 0, "next_attempt_at" = now(),
         "delivered_at" = NULL, "updated_at" = now() WHERE "id" = $1`,
      [deliveryId],
    );
  }

  private validate(input: Partial<NewEndpoint>): void {
    if (input.url !== undefined) {
      const problem = endpointUrlProblem(input.url, this.options.allowPrivateNetworks);
      if (problem) throw new EndpointError('invalid', problem);
    }
    const unknown = (input.events ?? []).find((type) => !(EVENT_TYPES as readonly string[]).includes(type));
    if (unknown !== undefined) {
      throw new EndpointError('invalid', `events: unknown event type ${unknown}; known: ${EVENT_TYPES.join(', ')}`);
    }
  }

  private requireCipher(): TokenCipher {
    if (!this.options.cipher) {
      throw new EndpointError(
        'no_key',
        'INSTANCE_TOKEN_KEY is not set: endpoint secrets are stored encrypted with it (e.g. openssl rand -base64 32)',
      );
    }
    return this.options.cipher;
  }
}

function notFound(id: string): EndpointError {
  return new EndpointError('not_found', `no event endpoint ${id}`);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.map((value) => value.trim()).filter((value) => value.length > 0))];
}
