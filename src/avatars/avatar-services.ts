import type { Config } from '../config.js';
import { AvatarReadsRepository } from '../db/avatar-reads-repository.js';
import type { Database } from '../db/prisma-client.js';
import type { ContactIntake } from '../hooks/contact-intake.js';
import type { AvatarRoutesDeps } from '../http/routes/avatars.js';
import type { ArchiveObjectStore, PresigningStore } from '../storage/object-store.js';
import { AvatarDeliveryService } from './avatar-delivery.js';
import { AvatarLinks } from './avatar-links.js';
import { AvatarLookupService } from './avatar-lookup.js';

/** The read side wired from the config: what `serve` mounts under /v1/avatars. */
export function createAvatarServices(
  config: Config,
  parts: {
    database: Pick<Database, 'pool'>;
    intake: Pick<ContactIntake, 'submit'>;
    store: Pick<ArchiveObjectStore, 'readObject'>;
    presigner: PresigningStore | null;
  },
): { routes: AvatarRoutesDeps; lookup: AvatarLookupService; links: AvatarLinks } {
  const { avatars, image } = config;
  const reads = new AvatarReadsRepository(parts.database);
  const links = avatarLinks(config);
  const delivery = new AvatarDeliveryService({
    reads,
    intake: parts.intake,
    presigner: parts.presigner,
    delivery: avatars.delivery,
    sizes: image.sizes,
    cacheMaxAgeSeconds: avatars.cacheMaxAgeSeconds,
    presignTtlSeconds: Math.floor(avatars.presignTtlMs / 1000),
  });
  return {
    routes: {
      delivery,
      store: parts.store,
      access: { apiToken: config.http.apiToken!, urlSecret: avatars.urlSecret, public: avatars.public },
    },
    lookup: new AvatarLookupService(reads, links, image.sizes),
    links,
  };
}

export function avatarLinks(config: Config): AvatarLinks {
  return new AvatarLinks(config.avatars, config.image.sizes);
}
