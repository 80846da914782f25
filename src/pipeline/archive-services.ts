import type { Config } from '../config.js';
import { avatarLinks } from '../avatars/avatar-services.js';
import { createImageDownloader } from '../download/image-downloader.js';
import { createImageProcessor, limitConcurrency } from '../image/image-processor.js';
import type { ArchiveServiceFor } from '../jobs/archive-worker.js';
import { pacedCalls, type ZapiCallBudget } from '../jobs/zapi-call-budget.js';
import { countedDownloader, countedSource, timedProcessor } from '../metrics/instrumented.js';
import { timedMethods } from '../metrics/job-steps.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';
import { createZapiClient } from '../zapi/zapi-client.js';
import {
  ARCHIVE_REPOSITORY_METHODS,
  ArchiveContactService,
  type ArchiveDependencies,
  type ArchiveSettings,
} from './archive-contact.js';

/** What the pipeline is wired from: the Container's shared adapters, built there on first use. */
export interface ArchiveServicesParts {
  instances: ArchiveDependencies['instances'];
  repositories: Pick<ArchiveDependencies, 'contacts' | 'checks' | 'versions'>;
  store: () => ArchiveObjectStore;
  metrics: () => Metrics;
  budget: () => ZapiCallBudget;
  /** Registers a shutdown step with the Container. */
  onClose: (close: () => Promise<void> | void) => void;
}

/**
 * The pipeline's services are built once and shared; each job gets its own thin view of
 * them whose calls are timed into that job's steps. `overrides` exist for fault-injection
 * tests; production wiring passes none.
 */
export function createArchiveServices(
  config: Config,
  parts: ArchiveServicesParts,
  overrides: Partial<ArchiveDependencies> = {},
): ArchiveServiceFor {
  const store = parts.store();
  const downloader = createImageDownloader(config.download);
  parts.onClose(() => downloader.close());
  const metrics = parts.metrics();
  const budget = parts.budget();
  const {
    contacts = parts.repositories.contacts,
    checks = parts.repositories.checks,
    versions = parts.repositories.versions,
    ...others
  } = overrides;
  const source = countedSource(createZapiClient(config.zapi), metrics);
  const counted = countedDownloader(downloader, metrics);
  const processor = limitConcurrency(
    timedProcessor(createImageProcessor(config.image), metrics),
    config.image.concurrency,
  );
  const settings: ArchiveSettings = {
    sizes: config.image.sizes,
    contentType: config.image.format === 'webp' ? 'image/webp' : 'image/jpeg',
    keyPrefix: config.storage.keyPrefix,
    noPictureConfirmations: config.worker.noPictureConfirmations,
    verifyMaxAgeMs: config.worker.pictureVerifyMaxAgeMs,
    refresh: { minAgeMs: config.refresh.minAgeMs, maxAgeMs: config.refresh.maxAgeMs },
    ...(config.avatars.delivery === 'public'
      ? {}
      : { endpointUrl: (instanceId: string, phone: string) => avatarLinks(config).endpointUrl(instanceId, phone) }),
  };
  const { contacts: contactMethods, checks: checkMethods, versions: versionMethods } = ARCHIVE_REPOSITORY_METHODS;
  return (steps) =>
    new ArchiveContactService({
      instances: parts.instances,
      // Pacing outside counting and timing: a call held back by the pace is not a call.
      source: pacedCalls(timedMethods(source, 'lookup', ['getProfilePictureLink'], steps), budget),
      downloader: timedMethods(counted, 'download', ['download'], steps),
      processor: timedMethods(processor, 'process', ['process'], steps),
      store: timedMethods(store, 'store', ['putIfAbsent'], steps),
      contacts: timedMethods(contacts, 'db', [...contactMethods], steps),
      checks: timedMethods(checks, 'db', [...checkMethods], steps),
      versions: timedMethods(versions, 'db', [...versionMethods], steps),
      settings,
      ...others,
    });
}
