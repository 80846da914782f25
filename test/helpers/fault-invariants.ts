import type { ArchiveObjectStore } from '../../src/storage/object-store.js';
import type { IsolatedDatabase } from './isolated-database.js';
import { sql } from './seed-contacts.js';

/** What a fault case checks once its run is over: the rows and the bucket agree, nothing is doubled. */
export interface ArchiveInvariants {
  /** Contacts by avatar_status. */
  statuses: Record<string, number>;
  versions: number;
  /** Distinct pictures (sha256) among the versions. */
  distinctPictures: number;
  /** Contacts holding more than one version (every case here shows each contact one picture). */
  duplicateVersions: number;
  /** Distinct object keys the rendition rows point at. */
  keys: number;
  /** Rendition keys with no object in the bucket. */
  danglingRows: string[];
}

/** Reads the schema's rows and lists the bucket once (not a HEAD per key). */
export async function archiveInvariants(
  db: IsolatedDatabase,
  store: Pick<ArchiveObjectStore, 'listObjects'>,
  keyPrefix: string,
): Promise<ArchiveInvariants> {
  const statuses = Object.fromEntries(
    (
      await sql<{ status: string; n: number }>(
        db,
        'SELECT avatar_status AS status, count(*)::int AS n FROM contacts GROUP BY avatar_status',
      )
    ).map((row) => [row.status, row.n]),
  );
  const [versions] = await sql<{ n: number; pictures: number }>(
    db,
    'SELECT count(*)::int AS n, count(DISTINCT sha256)::int AS pictures FROM avatar_versions',
  );
  const [duplicates] = await sql<{ n: number }>(
    db,
    'SELECT count(*)::int AS n FROM (SELECT contact_id FROM avatar_versions GROUP BY contact_id HAVING count(*) > 1) AS d',
  );
  const keys = (await sql<{ key: string }>(db, 'SELECT DISTINCT key FROM avatar_renditions')).map((row) => row.key);
  const present = new Set<string>();
  for await (const page of store.listObjects(keyPrefix)) for (const object of page) present.add(object.key);
  return {
    statuses,
    versions: versions!.n,
    distinctPictures: versions!.pictures,
    duplicateVersions: duplicates!.n,
    keys: keys.length,
    danglingRows: keys.filter((key) => !present.has(key)),
  };
}
