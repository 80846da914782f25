import type { AvatarDelivery } from '../config.js';
import type { AvatarReadsRepository, AvatarRecord, DeliverableRendition } from '../db/avatar-reads-repository.js';
import type { ContactIntake } from '../hooks/contact-intake.js';
import { snapSize } from '../domain/size-snapping.js';
import type { PresigningStore } from '../storage/object-store.js';

/** Why the endpoint shows a placeholder (X-Avatar-Status). */
export type AvatarAbsence = 'pending' | 'no_picture' | 'failed' | 'unknown';

export type AvatarAnswer =
  | { kind: 'redirect'; location: string; etag: string; maxAgeSeconds: number }
  | { kind: 'proxy'; key: string; etag: string; maxAgeSeconds: number }
  | {
      kind: 'absent';
      absence: AvatarAbsence;
      /** The size the placeholder is drawn at. */
      size: number;
      displayName: string | null;
      /** Dominant colour of the contact's last known picture, if any. */
      lastKnownColor: string | null;
    };

export interface AvatarRequest {
  instanceId: string;
  /** Normalised digits. */
  phone: string;
  size: number | undefined;
  /** A signed or Bearer request for a contact not seen yet creates and queues it; a public one does not. */
  mayCreate: boolean;
}

export interface AvatarDeliveryDeps {
  reads: Pick<AvatarReadsRepository, 'find'>;
  intake: Pick<ContactIntake, 'submit'>;
  presigner: PresigningStore | null;
  delivery: AvatarDelivery;
  /** AVATAR_SIZES, largest first. */
  sizes: number[];
  cacheMaxAgeSeconds: number;
  presignTtlSeconds: number;
}

/**
 * Decides what GET /v1/avatars/{instanceId}/{phone} answers: where the current picture is
 * (redirect or proxy, by AVATAR_DELIVERY), or why there is none. The route turns that into HTTP.
 */
export class AvatarDeliveryService {
  constructor(private readonly deps: AvatarDeliveryDeps) {}

  async answer(request: AvatarRequest): Promise<AvatarAnswer> {
    const record = await this.deps.reads.find(request.instanceId, request.phone);
    const rendition = record ? this.pick(record.renditions, request.size) : undefined;
    if (record && rendition) return this.deliver(record, rendition);
    const placeholderSize = snapSize(this.deps.sizes, request.size)!;
    return {
      kind: 'absent',
      absence: record ? absenceOf(record) : await this.readThrough(request),
      size: placeholderSize,
      displayName: record?.displayName ?? null,
      lastKnownColor: record?.lastKnownColor ?? null,
    };
  }

  private pick(renditions: DeliverableRendition[], wanted: number | undefined): DeliverableRendition | undefined {
    const size = snapSize(
      renditions.map((rendition) => rendition.size),
      wanted,
    );
    return renditions.find((rendition) => rendition.size === size);
  }

  private async deliver(record: AvatarRecord, rendition: DeliverableRendition): Promise<AvatarAnswer> {
    // The object under a key never changes, so the version and size name its bytes.
    const etag = `"${record.sha256!.slice(0, 32)}-${rendition.size}"`;
    const maxAgeSeconds = this.deps.cacheMaxAgeSeconds;
    switch (this.deps.delivery) {
      case 'proxy':
        return { kind: 'proxy', key: rendition.key, etag, maxAgeSeconds };
      case 'presigned': {
        const { presigner, presignTtlSeconds } = this.deps;
        if (!presigner) throw new Error('AVATAR_DELIVERY=presigned needs the s3 storage driver');
        const location = await presigner.presignedGetUrl(rendition.key, presignTtlSeconds);
        // A cached redirect must not outlive the signature it points at.
        return {
          kind: 'redirect',
          location,
          etag,
          maxAgeSeconds: Math.min(maxAgeSeconds, Math.floor(presignTtlSeconds / 2)),
        };
      }
      case 'public':
        return { kind: 'redirect', location: rendition.url, etag, maxAgeSeconds };
    }
  }

  /** A contact asked for before any hook told us of it: created and queued at new-contact priority. */
  private async readThrough(request: AvatarRequest): Promise<AvatarAbsence> {
    if (!request.mayCreate) return 'unknown';
    const [result] = await this.deps.intake.submit([{ instanceId: request.instanceId, phone: request.phone }]);
    return result?.result === 'rejected' ? 'unknown' : 'pending';
  }
}

function absenceOf(record: AvatarRecord): AvatarAbsence {
  if (record.doNotArchive) return 'no_picture';
  switch (record.status) {
    case 'FAILED':
      return 'failed';
    case 'NO_PICTURE':
      return 'no_picture';
    default:
      return 'pending';
  }
}
