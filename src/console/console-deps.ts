import type { Queue } from 'bullmq';
import type { AvatarLinks } from '../avatars/avatar-links.js';
import { avatarLinks } from '../avatars/avatar-services.js';
import type { Container } from '../container.js';
import type { AvatarVersionsRepository } from '../db/avatar-versions-repository.js';
import type { ContactsRepository } from '../db/contacts-repository.js';
import type { ContactEraser } from '../erasure/contact-eraser.js';
import type { ContactIntake } from '../hooks/contact-intake.js';
import type { DeadLetters } from '../hooks/dead-letters.js';
import type { InstanceHealthReader } from '../instances/instance-health.js';
import type { InstanceRegistry } from '../instances/instance-registry.js';
import { readStatusOverview, type StatusOverview } from '../status/status-overview.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';
import { SESSION_TTL_MS } from './session.js';
import { ConsoleSessions } from './session-store.js';

/** What the console reads and does: the services the CLI and the /v1 routes use. */
export interface ConsoleDeps {
  apiToken: string;
  /** Secure cookies: SERVICE_URL is https. */
  secureCookies: boolean;
  /** ADMIN_QUEUES_WRITE: Bull Board may change jobs. */
  queuesWrite: boolean;
  sessions: ConsoleSessions;
  overview(): Promise<StatusOverview>;
  contacts: Pick<ContactsRepository, 'findContactWithRenditions' | 'countByStatus' | 'findByPhone'>;
  versions: Pick<AvatarVersionsRepository, 'listVersions' | 'findRendition'>;
  links: AvatarLinks;
  /** SERVICE_URL: signed avatar URLs under it are shown relative to the console's own origin. */
  serviceUrl: string;
  store: Pick<ArchiveObjectStore, 'readObject'>;
  intake: Pick<ContactIntake, 'submit'>;
  eraser: Pick<ContactEraser, 'erase'>;
  deadLetters: Pick<DeadLetters, 'list' | 'retry'>;
  registry: Pick<InstanceRegistry, 'list' | 'set'>;
  health: Pick<InstanceHealthReader, 'read'>;
  /** Starts a sweep of one enabled instance now, carried on by the workers' refresh queue: its id (null: not enabled). */
  sweepNow(instanceId: string): Promise<number | null>;
  /** The queues Bull Board shows. */
  queues(): Queue[];
}

export function consoleDepsFrom(container: Container): ConsoleDeps {
  const { config } = container;
  return {
    apiToken: config.http.apiToken!,
    secureCookies: config.avatars.serviceUrl.startsWith('https:'),
    queuesWrite: config.http.adminQueuesWrite,
    sessions: new ConsoleSessions(() => container.commandConnection(), config.queuePrefix, SESSION_TTL_MS),
    overview: async () => (await readStatusOverview(container)).summary,
    contacts: container.contacts,
    versions: container.versions,
    links: avatarLinks(config),
    serviceUrl: config.avatars.serviceUrl,
    store: container.objectStore(),
    intake: container.intake.contactIntake(),
    eraser: container.erasure.contactEraser(),
    deadLetters: container.intake.deadLetters(),
    registry: container.tenancy.registry(),
    health: container.tenancy.health(),
    async sweepNow(instanceId) {
      if (!container.instances.has(instanceId)) return null;
      const sweep = await container.intake
        .refreshSweeper()
        .start({ trigger: 'console', instanceId, includeAll: false });
      await container.refreshQueue().runSweep(sweep.id);
      return sweep.id;
    },
    queues: () => [container.archiveQueues().queue as unknown as Queue, container.refreshQueue().queue],
  };
}
