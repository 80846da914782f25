import { inTransaction } from './pool-transaction.js';
import type pg from 'pg';
import type { Database } from './prisma-client.js';

/** An avatar_events row as the relay reads it (ids as decimal strings: they are BIGSERIAL). */
export interface AvatarEventRow {
  id: string;
  type: string;
  instanceId: string;
  phone: string | null;
  phoneSha256: string | null;
  contactId: number | null;
  contactVersion: number;
  sha256: string | null;
  previousSha256: string | null;
  reason: string | null;
  occurredAt: Date;
}

/** The version an avatar.updated event names, with its stored sizes (ascending). */
export interface EventVersion {
  contactId: number;
  sha256: string;
  dominantColor: string;
  thumbhash: string | null;
  renditions: { size: number; url: string; width: number; height: number }[];
}

export interface RelayedBatch {
  /** How many events were taken (and marked relayed). */
  events: number;
  /** The event_deliveries created, to hand to the delivery queue once committed. */
  deliveryIds: string[];
}

/**
 * The outbox relay's SQL (see src/events/event-relay.ts): plain parameterised statements on
 * the pool, like every query the worker makes.
 */
export class AvatarEventsRepository {
  constructor(private readonly database: Pick<Database, 'pool'>) {}

  /**
   * In one transaction: takes up to `limit` unrelayed events, oldest first, skipping those
   * another relay holds; stores each one's payload (built by `buildPayload` from the event and
   * the version it names, null when gone); creates one pending delivery per matching enabled
   * endpoint; marks them relayed. The deliveries exist only once this commits.
   */
  async relayBatch(
    limit: number,
    buildPayload: (event: AvatarEventRow, version: EventVersion | null) => object,
  ): Promise<RelayedBatch> {
    return inTransaction(this.database.pool, async (client) => {
      const { rows: events } = await client.query<AvatarEventRow>(
        `SELECT id::text AS id, type, instance_id AS "instanceId", phone, phone_sha256 AS "phoneSha256",
                contact_id AS "contactId", contact_version AS "contactVersion", sha256,
                previous_sha256 AS "previousSha256", reason, occurred_at AS "occurredAt"
         FROM avatar_events WHERE relayed_at IS NULL
         ORDER BY avatar_events.id FOR UPDATE SKIP LOCKED LIMIT $1`,
        [limit],
      );
      if (events.length === 0) return { events: 0, deliveryIds: [] };
      const versions = await this.versionsOf(client, events);
      const ids = events.map((event) => event.id);
      const payloads = events.map((event) =>
        JSON.stringify(
          buildPayload(
            event,
            event.contactId !== null && event.sha256 !== null
              ? (versions.get(`${event.contactId}:${event.sha256}`) ?? null)
              : null,
          ),
        ),
      );
      await client.query(
        `UPDATE avatar_events AS e SET payload = given.payload::jsonb, relayed_at = now()
         FROM unnest($1::bigint[], $2::text[]) AS given (id, payload)
         WHERE e.id = given.id`,
        [ids, payloads],
      );
      const { rows: deliveries } = await client.query<{ id: string }>(
        `INSERT INTO event_deliveries (event_id, endpoint_id)
         SELECT e.id, ep.id FROM avatar_events AS e
         JOIN event_endpoints AS ep ON ep.enabled
           AND (ep.events IS NULL OR cardinality(ep.events) = 0 OR e.type = ANY(ep.events))
           AND (ep.instance_ids IS NULL OR cardinality(ep.instance_ids) = 0 OR e.instance_id = ANY(ep.instance_ids))
         WHERE e.id = ANY($1::bigint[])
         ORDER BY e.id, ep.id
         ON CONFLICT (event_id, endpoint_id) DO NOTHING
         RETURNING id::text AS id`,
        [ids],
      );
      return { events: events.length, deliveryIds: deliveries.map((row) => row.id) };
    });
  }

  /**
   * Pending deliveries due for an attempt (next_attempt_at null or past) created before
   * `createdBefore`, ascending by id after `afterId`: what a relay that died between its
   * commit and the queue may have left unqueued.
   */
  async pendingDeliveries(createdBefore: Date, afterId: string, limit: number): Promise<string[]> {
    const { rows } = await this.database.pool.query<{ id: string }>(
      `SELECT id::text AS id FROM event_deliveries
       WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
         AND created_at < $1 AND id > $2::bigint
       ORDER BY event_deliveries.id LIMIT $3`,
      [createdBefore, afterId, limit],
    );
    return rows.map((row) => row.id);
  }

  /** Deletes up to `limit` events relayed before `cutoff` (their deliveries cascade); returns how many. */
  async deleteRelayedBefore(cutoff: Date, limit: number): Promise<number> {
    const { rowCount } = await this.database.pool.query(
      `DELETE FROM avatar_events WHERE id IN (
         SELECT id FROM avatar_events WHERE relayed_at < $1 ORDER BY relayed_at, id LIMIT $2)`,
      [cutoff, limit],
    );
    return rowCount ?? 0;
  }

  private async versionsOf(client: pg.PoolClient, events: AvatarEventRow[]): Promise<Map<string, EventVersion>> {
    const wanted = events.filter((event) => event.contactId !== null && event.sha256 !== null);
    if (wanted.length === 0) return new Map();
    const { rows } = await client.query<EventVersion>(
      `SELECT v.contact_id AS "contactId", v.sha256, v.dominant_color AS "dominantColor", v.thumbhash,
              COALESCE((SELECT json_agg(json_build_object('size', r.size, 'url', r.url,
                                                          'width', r.width, 'height', r.height) ORDER BY r.size)
                        FROM avatar_renditions AS r WHERE r.version_id = v.id), '[]') AS renditions
       FROM unnest($1::int[], $2::text[]) AS given (contact_id, sha256)
       JOIN avatar_versions AS v ON v.contact_id = given.contact_id AND v.sha256 = given.sha256`,
      [wanted.map((event) => event.contactId), wanted.map((event) => event.sha256)],
    );
    return new Map(rows.map((row) => [`${row.contactId}:${row.sha256}`, row]));
  }
}
