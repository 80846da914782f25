import { createHash } from 'node:crypto';
import type { ZapiInstance } from '../config.js';
import type { AvatarVersionsRepository, NewVersion } from '../db/avatar-versions-repository.js';
import type { ContactChecksRepository, NextCheck } from '../db/contact-checks-repository.js';
import type { ContactsRepository } from '../db/contacts-repository.js';
import type { Contact } from '../generated/prisma/client.js';
import { nextCheckAt, type CheckResult, type RefreshPolicySettings } from '../domain/refresh-policy.js';
import { ArchiveError, ErrorCode } from '../errors.js';
import { fetchPicture } from './fetch-picture.js';
import type { ImageDownloader, ImageProcessor, ObjectStore, ProfilePictureSource } from './ports.js';
import { storeRenditions } from './store-renditions.js';

export interface ArchiveSettings {
  /** Descending; the first is the size recorded as contacts.avatar_url. */
  sizes: number[];
  contentType: string;
  keyPrefix: string;
  noPictureConfirmations: number;
  /**
   * PICTURE_VERIFY_MAX_AGE: how long a download that matched the archived picture is trusted
   * for links to the same place; 0 downloads on every check.
   */
  verifyMaxAgeMs: number;
  refresh: RefreshPolicySettings;
  /**
   * AVATAR_DELIVERY=presigned or proxy: contacts.avatar_url is the contact's stable avatar
   * endpoint (objects are not public), not the object's URL. Undefined: the object's URL.
   */
  endpointUrl?: (instanceId: string, phone: string) => string;
}

/** What the pipeline reads and writes of each repository, and nothing more. */
export const ARCHIVE_REPOSITORY_METHODS = {
  contacts: ['ensureContact', 'findContact'],
  checks: ['recordUnchanged', 'recordNoPicture', 'recordFailure', 'deferCheck'],
  versions: ['findReusableVersion', 'recordArchived'],
} as const;

type Methods<K extends keyof typeof ARCHIVE_REPOSITORY_METHODS> = (typeof ARCHIVE_REPOSITORY_METHODS)[K][number];

export interface ArchiveDependencies {
  /** The enabled instances (InstanceDirectory): read at each call, so a rotated token is used at once. */
  instances: { get(id: string): ZapiInstance | undefined };
  source: ProfilePictureSource;
  downloader: ImageDownloader;
  processor: ImageProcessor;
  store: ObjectStore;
  contacts: Pick<ContactsRepository, Methods<'contacts'>>;
  checks: Pick<ContactChecksRepository, Methods<'checks'>>;
  versions: Pick<AvatarVersionsRepository, Methods<'versions'>>;
  settings: ArchiveSettings;
  now?: () => Date;
  /** Jitter source of the refresh policy; tests pin it. */
  random?: () => number;
}

export type ArchiveOutcome =
  /** A picture not seen before for this contact: stored and recorded. */
  | {
      outcome: 'archived';
      avatarUrl: string;
      uploaded: number;
      reusedObjects: boolean;
      refreshedLink: boolean;
      fromGivenLink: boolean;
    }
  /**
   * Same picture as the archived one: nothing decoded, uploaded or added. `downloaded` false:
   * the link pointed where the archived picture was recently downloaded from, so not even that.
   */
  | { outcome: 'unchanged'; avatarUrl: string | null; fromGivenLink: boolean; downloaded: boolean }
  | { outcome: 'no_picture' }
  /** Z-API said "no picture" but the archived one is kept until confirmed. */
  | { outcome: 'no_picture_unconfirmed' }
  | { outcome: 'no_picture_cleared' }
  /** Checked by another job after this one was queued: nothing to do. */
  | { outcome: 'already_checked' }
  /** The contact opted out (purge --opt-out): never archived again. */
  | { outcome: 'opted_out' };

export interface ArchiveRequest {
  instanceId: string;
  /** Normalised digits. */
  phone: string;
  /** A fresh picture link from a webhook, tried before asking Z-API. */
  link?: string | undefined;
  /** When the contact was seen needing this check (see checkedSinceRequested). */
  queuedAt?: Date | undefined;
  /**
   * The contact's lastCheckedAt (Unix ms, null: never) when whoever queued this saw it due;
   * undefined when they did not read it. Any other value now means a check was recorded since.
   */
  seenCheckedAt?: number | null | undefined;
}

/**
 * Several ways in (a hook, a sweep, another process's hook) can each queue the same contact,
 * and a job id frees up as soon as its job ends, so a request can outlive the check that
 * answers it: one that ended after the request was made, or one recorded after the requester
 * read the contact (it may have been running then, the contact still looking due).
 */
function checkedSinceRequested(contact: Contact, request: ArchiveRequest): boolean {
  const last = contact.lastCheckedAt?.getTime() ?? null;
  if (request.seenCheckedAt !== undefined && last !== request.seenCheckedAt) return true;
  return request.queuedAt !== undefined && last !== null && last > request.queuedAt.getTime();
}

/**
 * Archives one contact's picture, top to bottom:
 * fetch link → same place as the archived one? → download → same bytes? → reuse or resize → store → record.
 * The database is written last, after every object exists, so no row ever points at a
 * missing object and a re-run after a crash converges on the same single version.
 */
export class ArchiveContactService {
  private readonly now: () => Date;

  constructor(private readonly deps: ArchiveDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  async archive(request: ArchiveRequest): Promise<ArchiveOutcome> {
    const { deps } = this;
    const instance = this.instance(request.instanceId);
    const contact = await deps.contacts.ensureContact(instance.id, request.phone);
    if (contact.doNotArchive) return { outcome: 'opted_out' };
    if (checkedSinceRequested(contact, request)) return { outcome: 'already_checked' };

    const fetched = await fetchPicture(deps.source, deps.downloader, instance, request.phone, {
      givenLink: request.link,
      knownSource: this.trustedSource(contact),
    });
    const checkedAt = this.now();

    if (fetched.kind === 'none') {
      const stillNone = contact.avatarStatus === 'NO_PICTURE' && contact.avatarUrl === null;
      const result = await deps.checks.recordNoPicture(
        contact.id,
        deps.settings.noPictureConfirmations,
        checkedAt,
        this.nextCheck(checkedAt, stillNone ? contact.consecutiveUnchanged + 1 : 0),
      );
      if (result === 'kept_pending_confirmation') return { outcome: 'no_picture_unconfirmed' };
      return { outcome: result === 'cleared' ? 'no_picture_cleared' : 'no_picture' };
    }

    if (fetched.kind === 'known_source') return this.unchanged(contact, checkedAt, fetched.fromGivenLink, null);

    const { bytes } = fetched.image;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 === contact.avatarSha256) {
      return this.unchanged(contact, checkedAt, fetched.fromGivenLink, { source: fetched.source });
    }

    const { sizes, contentType, keyPrefix } = deps.settings;
    let version: NewVersion;
    let uploaded = 0;
    const reusable = await deps.versions.findReusableVersion(sha256, sizes, contentType);
    if (reusable) {
      version = { ...reusable, sourceLinkExpiresAt: fetched.linkExpiresAt };
    } else {
      const processed = await deps.processor.process(bytes);
      const stored = await storeRenditions(deps.store, keyPrefix, sha256, processed.renditions);
      uploaded = stored.uploaded;
      version = {
        sha256,
        originalWidth: processed.original.width,
        originalHeight: processed.original.height,
        originalBytes: bytes.length,
        originalFormat: processed.original.format,
        sourceLinkExpiresAt: fetched.linkExpiresAt,
        dominantColor: processed.dominantColor,
        thumbhash: processed.thumbhash,
        renditions: stored.stored,
      };
    }

    const primary = version.renditions.find((rendition) => rendition.size === sizes[0]);
    if (!primary) throw new Error(`no rendition of size ${sizes[0]} was produced`);
    const avatarUrl = deps.settings.endpointUrl?.(contact.instanceId, contact.phone) ?? primary.url;
    await deps.versions.recordArchived(
      contact.id,
      version,
      { avatarUrl, source: fetched.source },
      checkedAt,
      this.nextCheck(checkedAt, 0),
    );
    return {
      outcome: 'archived',
      avatarUrl,
      uploaded,
      reusedObjects: reusable !== null,
      refreshedLink: fetched.refreshedLink,
      fromGivenLink: fetched.fromGivenLink,
    };
  }

  /** Written for every failed attempt; `final` is the last attempt (or a permanent error). */
  async recordFailure(request: ArchiveRequest, message: string, final: boolean): Promise<void> {
    const at = this.now();
    let next: Date | undefined;
    if (final) {
      const current = await this.deps.contacts.findContact(request.instanceId, request.phone);
      next = this.schedule(at, { kind: 'failed', failures: (current?.consecutiveFailures ?? 0) + 1 });
    }
    await this.deps.checks.recordFailure(request.instanceId, request.phone, message, {
      final,
      at,
      ...(next ? { nextCheckAt: next } : {}),
    });
  }

  /** The instance's daily Z-API budget is spent: check this contact again once it is whole. */
  async deferCheck(request: ArchiveRequest, until: Date): Promise<void> {
    await this.deps.checks.deferCheck(request.instanceId, request.phone, until);
  }

  /** `downloaded`: where the bytes just compared came from; null when nothing was downloaded. */
  private async unchanged(
    contact: Contact,
    checkedAt: Date,
    fromGivenLink: boolean,
    downloaded: { source: string | null } | null,
  ): Promise<ArchiveOutcome> {
    const updated = await this.deps.checks.recordUnchanged(
      contact.id,
      checkedAt,
      this.nextCheck(checkedAt, contact.consecutiveUnchanged + 1),
      downloaded,
    );
    return { outcome: 'unchanged', avatarUrl: updated.avatarUrl, fromGivenLink, downloaded: downloaded !== null };
  }

  /**
   * Where the archived picture was downloaded from, while that download is recent enough to
   * stand for the bytes: a link to the same place needs no download to be known unchanged.
   */
  private trustedSource(contact: Contact): string | null {
    const { avatarSha256, avatarSourceUrl, avatarVerifiedAt } = contact;
    if (avatarSha256 === null || avatarSourceUrl === null || avatarVerifiedAt === null) return null;
    const age = this.now().getTime() - avatarVerifiedAt.getTime();
    return age < this.deps.settings.verifyMaxAgeMs ? avatarSourceUrl : null;
  }

  /** `unchangedStreak` 0 means the check found something new (or a first answer). */
  private nextCheck(checkedAt: Date, unchangedStreak: number): NextCheck {
    const result: CheckResult =
      unchangedStreak === 0 ? { kind: 'changed' } : { kind: 'unchanged', streak: unchangedStreak };
    return { nextCheckAt: this.schedule(checkedAt, result), consecutiveUnchanged: unchangedStreak };
  }

  private schedule(at: Date, result: CheckResult): Date {
    return nextCheckAt(at, result, this.deps.settings.refresh, this.deps.random);
  }

  private instance(id: string): ZapiInstance {
    const instance = this.deps.instances.get(id);
    if (!instance) {
      throw new ArchiveError(
        ErrorCode.UnknownInstance,
        `instance ${id} is not configured (set ZAPI_INSTANCE_ID/ZAPI_INSTANCE_TOKEN or ZAPI_INSTANCES)`,
        { retryable: false },
      );
    }
    return instance;
  }
}
