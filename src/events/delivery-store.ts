import { inTransaction } from '../db/pool-transaction.js';
import type pg from 'pg';

/** What one attempt needs, read fresh from Postgres for every attempt. */
export interface DeliveryToSend {
  id: string;
  status: string;
  attempts: number;
  nextAttemptAt: Date | null;
  eventId: string;
  type: string;
  occurredAt: Date;
  payload: unknown;
  endpointId: string;
  url: string;
  enabled: boolean;
  secretCiphertext: string;
  previousSecretCiphertext: string | null;
  previousSecretExpiresAt: Date | null;
  /** updated_at as read: an attempt's outcome is recorded only if nothing (a replay) changed the row meanwhile. */
  version: Date;
}

export const GONE_REASON = 'answered 410 Gone';

/** The worker's reads and writes of event_deliveries (plain SQL, like every worker query). */
export class DeliveryStore {
  constructor(private readonly pool: pg.Pool) {}

  async load(id: string): Promise<DeliveryToSend | null> {
    const { rows } = await this.pool.query<{
      id: string;
      status: string;
      attempts: number;
      next_attempt_at: Date | null;
      event_id: string;
      type: string;
      occurred_at: Date;
      payload: unknown;
      endpoint_id: string;
      url: string;
      enabled: boolean;
      secret_ciphertext: string;
      previous_secret_ciphertext: string | null;
      previous_secret_expires_at: Date | null;
      updated_at: Date;
    }>(
      `SELECT d."id"::text AS "id", d."status", d."attempts", d."next_attempt_at", d."event_id"::text AS "event_id",
              e."type", e."occurred_at", e."payload", d."endpoint_id", ep."url", ep."enabled", ep."secret_ciphertext",
              ep."previous_secret_ciphertext", ep."previous_secret_expires_at",
              d."updated_at"
       FROM "event_deliveries" d
       JOIN "avatar_events" e ON e."id" = d."event_id"
       JOIN "event_endpoints" ep ON ep."id" = d."endpoint_id"
       WHERE d."id" = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      eventId: row.event_id,
      type: row.type,
      occurredAt: row.occurred_at,
      payload: row.payload,
      endpointId: row.endpoint_id,
      url: row.url,
      enabled: row.enabled,
      secretCiphertext: row.secret_ciphertext,
      previousSecretCiphertext: row.previous_secret_ciphertext,
      previousSecretExpiresAt: row.previous_secret_expires_at,
      version: row.updated_at,
    };
  }

  /**
   * One attempt's outcome ('pending': a retry at nextAttemptAt). False when the row changed
   * since `version` was read (replayed during the attempt): nothing is recorded then.
   */
  async recordAttempt(
    id: string,
    version: Date,
    outcome: {
      status: 'pending' | 'succeeded' | 'dead';
      statusCode: number | null;
      error: string | null;
      nextAttemptAt: Date | null;
    },
  ): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE "event_deliveries"
       SET "status" = $2, "attempts" = "attempts" + 1, "last_status_code" = $3, "last_error" = $4,
           "last_attempt_at" = now(), "next_attempt_at" = $5,
           "delivered_at" = CASE WHEN $2 = 'succeeded' THEN now() ELSE "delivered_at" END, "updated_at" = now()
       WHERE "id" = $1 AND "status" = 'pending' AND "updated_at" = $6`,
      [id, outcome.status, outcome.statusCode, outcome.error, outcome.nextAttemptAt, version],
    );
    return rowCount === 1;
  }

  /** Without an attempt: the endpoint is disabled, or the budget was spent before (a shorter schedule). */
  async markDead(id: string, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE "event_deliveries" SET "status" = 'dead', "last_error" = $2, "next_attempt_at" = NULL, "updated_at" = now()
       WHERE "id" = $1 AND "status" = 'pending'`,
      [id, reason],
    );
  }

  /** 410 Gone: the endpoint is disabled, this delivery and every other pending one of it are dead. */
  async endpointGone(id: string, endpointId: string): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      await client.query(
        `UPDATE "event_endpoints" SET "enabled" = false, "disabled_reason" = $2, "disabled_at" = now(), "updated_at" = now()
         WHERE "id" = $1`,
        [endpointId, GONE_REASON],
      );
      await client.query(
        `UPDATE "event_deliveries"
         SET "status" = 'dead', "attempts" = "attempts" + 1, "last_status_code" = 410, "last_error" = $2,
             "last_attempt_at" = now(), "next_attempt_at" = NULL, "updated_at" = now()
         WHERE "id" = $1 AND "status" = 'pending'`,
        [id, GONE_REASON],
      );
      const others = await client.query(
        `UPDATE "event_deliveries" SET "status" = 'dead', "last_error" = $2, "next_attempt_at" = NULL, "updated_at" = now()
         WHERE "endpoint_id" = $1 AND "status" = 'pending'`,
        [endpointId, `endpoint disabled: ${GONE_REASON}`],
      );
      return others.rowCount ?? 0;
    });
  }

  /** Per endpoint, when its oldest pending delivery was created (the lag gauge). */
  async oldestPendingByEndpoint(): Promise<Map<string, Date>> {
    const { rows } = await this.pool.query<{ endpoint_id: string; oldest: Date }>(
      `SELECT "endpoint_id", min("created_at") AS "oldest" FROM "event_deliveries"
       WHERE "status" = 'pending' GROUP BY "endpoint_id"`,
    );
    return new Map(rows.map((row) => [row.endpoint_id, row.oldest]));
  }
}
