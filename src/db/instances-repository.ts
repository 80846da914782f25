import type pg from 'pg';

/**
 * Every query of the instance registry (table `instances`). Tokens come and go only as
 * ciphertexts (see TokenCipher); this layer never sees one in clear. Plain SQL on the pool,
 * as the worker reads the registry too and never loads Prisma's client.
 */

export type InstanceSource = 'cli' | 'api' | 'partner';

export interface InstanceRow {
  id: string;
  tokenCiphertext: string;
  label: string | null;
  enabled: boolean;
  maxRequestsPerSecond: number | null;
  maxRequestsPerDay: number | null;
  source: InstanceSource;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
  disabledReason: string | null;
}

export interface NewInstanceRow {
  id: string;
  tokenCiphertext: string;
  label: string | null;
  maxRequestsPerSecond: number | null;
  maxRequestsPerDay: number | null;
  source: InstanceSource;
}

/** Only the fields given change; `enabled` also sets or clears disabled_at and its reason. */
export interface InstancePatch {
  tokenCiphertext?: string;
  label?: string | null;
  maxRequestsPerSecond?: number | null;
  maxRequestsPerDay?: number | null;
  enabled?: { value: true } | { value: false; reason: string };
}

const COLUMNS = [
  'id',
  'token_ciphertext AS "tokenCiphertext"',
  'label',
  'enabled',
  'max_requests_per_second AS "maxRequestsPerSecond"',
  'max_requests_per_day AS "maxRequestsPerDay"',
  'source',
  'created_at AS "createdAt"',
  'updated_at AS "updatedAt"',
  'disabled_at AS "disabledAt"',
  'disabled_reason AS "disabledReason"',
].join(', ');

export class InstancesRepository {
  constructor(private readonly pool: pg.Pool) {}

  async list(): Promise<InstanceRow[]> {
    return (await this.pool.query<InstanceRow>(`SELECT ${COLUMNS} FROM instances ORDER BY id`)).rows;
  }

  async find(id: string): Promise<InstanceRow | null> {
    return (await this.pool.query<InstanceRow>(`SELECT ${COLUMNS} FROM instances WHERE id = $1`, [id])).rows[0] ?? null;
  }

  /**
   * What changes when any row is added, changed or removed: the row count and the latest
   * updated_at (every write sets it). Cheap enough to ask every few seconds.
   */
  async version(): Promise<string> {
    const { rows } = await this.pool.query<{ count: string; latest: Date | null }>(
      'SELECT count(*) AS count, max(updated_at) AS latest FROM instances',
    );
    return `${rows[0]!.count}:${rows[0]!.latest?.toISOString() ?? '-'}`;
  }

  /** The ids that were inserted; ids already registered are left as they are. One statement. */
  async insertMany(rows: NewInstanceRow[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const { rows: inserted } = await this.pool.query<{ id: string }>(
      `INSERT INTO instances (id, token_ciphertext, label, max_requests_per_second, max_requests_per_day, source)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::"InstanceSource"[])
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        rows.map((row) => row.id),
        rows.map((row) => row.tokenCiphertext),
        rows.map((row) => row.label),
        rows.map((row) => row.maxRequestsPerSecond),
        rows.map((row) => row.maxRequestsPerDay),
        rows.map((row) => row.source),
      ],
    );
    return inserted.map((row) => row.id);
  }

  async update(id: string, patch: InstancePatch): Promise<InstanceRow | null> {
    const sets: string[] = ['updated_at = now()'];
    const values: unknown[] = [id];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (patch.tokenCiphertext !== undefined) set('token_ciphertext', patch.tokenCiphertext);
    if (patch.label !== undefined) set('label', patch.label);
    if (patch.maxRequestsPerSecond !== undefined) set('max_requests_per_second', patch.maxRequestsPerSecond);
    if (patch.maxRequestsPerDay !== undefined) set('max_requests_per_day', patch.maxRequestsPerDay);
    if (patch.enabled?.value === true) {
      sets.push('enabled = true', 'disabled_at = NULL', 'disabled_reason = NULL');
    } else if (patch.enabled?.value === false) {
      values.push(patch.enabled.reason);
      // A second "disable" keeps the first one's time.
      sets.push('enabled = false', 'disabled_at = COALESCE(disabled_at, now())', `disabled_reason = $${values.length}`);
    }
    const { rows } = await this.pool.query<InstanceRow>(
      `UPDATE instances SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      values,
    );
    return rows[0] ?? null;
  }

  /** Compare-and-set, so a rekey never overwrites a token rotated meanwhile. */
  async replaceCiphertext(id: string, expected: string, next: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE instances SET token_ciphertext = $3 WHERE id = $1 AND token_ciphertext = $2',
      [id, expected, next],
    );
    return rowCount === 1;
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM instances WHERE id = $1', [id]);
    return rowCount === 1;
  }

  /** One page of an instance's contacts by id, for erasing them all (`instances remove --purge`). */
  async contactPage(instanceId: string, afterId: number, limit: number): Promise<{ id: number; phone: string }[]> {
    const { rows } = await this.pool.query<{ id: number; phone: string }>(
      'SELECT id, phone FROM contacts WHERE instance_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [instanceId, afterId, limit],
    );
    return rows;
  }
}
