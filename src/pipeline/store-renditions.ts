import { renditionKey } from '../domain/object-keys.js';
import type { StoredRendition } from '../db/avatar-versions-repository.js';
import type { ObjectStore, Rendition } from './ports.js';

/** Uploads every rendition (skipping objects already there) and says where each one lives. */
export async function storeRenditions(
  store: ObjectStore,
  keyPrefix: string,
  sha256: string,
  renditions: Rendition[],
): Promise<{ stored: StoredRendition[]; uploaded: number }> {
  const results = await Promise.all(
    renditions.map(async (rendition) => {
      const key = renditionKey(keyPrefix, sha256, rendition.size, rendition.extension);
      const outcome = await store.putIfAbsent(key, rendition.bytes, rendition.contentType);
      const stored: StoredRendition = {
        size: rendition.size,
        key,
        url: store.publicUrl(key),
        width: rendition.width,
        height: rendition.height,
        bytes: rendition.bytes.length,
        contentType: rendition.contentType,
      };
      return { stored, uploaded: outcome === 'uploaded' };
    }),
  );
  return {
    stored: results.map((result) => result.stored),
    uploaded: results.filter((result) => result.uploaded).length,
  };
}
