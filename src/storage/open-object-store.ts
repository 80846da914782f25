import type { Config } from '../config.js';
import { FsObjectStore } from './fs-object-store.js';
import type { ArchiveObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

/** STORAGE_DRIVER's store: S3, or the files under STORAGE_DIR (nothing but a directory to run). */
export function openObjectStore(config: Pick<Config, 'storage' | 's3' | 'avatars'>): ArchiveObjectStore {
  const { storage, s3, avatars } = config;
  if (storage.driver === 'fs') return new FsObjectStore({ dir: storage.dir, serviceUrl: avatars.serviceUrl });
  if (s3) return new S3ObjectStore(s3);
  throw new Error('STORAGE_DRIVER=s3 needs S3_BUCKET: load the config with { storage: true } to have it checked');
}
