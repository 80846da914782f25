import type { AvatarReadsRepository, LookupRow } from '../db/avatar-reads-repository.js';
import { normalizePhone } from '../domain/phone.js';
import { snapSize } from '../domain/size-snapping.js';
import { describeError } from '../errors.js';
import type { AvatarLinks } from './avatar-links.js';

export type LookupStatus = 'archived' | 'pending' | 'no_picture' | 'failed' | 'unknown' | 'invalid';

export interface LookupResult {
  instanceId: string;
  phone: string;
  status: LookupStatus;
  url: string | null;
  width: number | null;
  height: number | null;
  dominantColor: string | null;
  thumbhash: string | null;
  reason?: string;
}

/**
 * POST /v1/avatars/lookup: what a list of contacts (an inbox, a contact list) needs to draw
 * every avatar at once, from one SQL statement whatever the list's length.
 */
export class AvatarLookupService {
  constructor(
    private readonly reads: Pick<AvatarReadsRepository, 'lookup'>,
    private readonly links: AvatarLinks,
    /** AVATAR_SIZES: what a contact without a picture is signed for. */
    private readonly sizes: number[],
  ) {}

  async lookup(contacts: { instanceId: string; phone: string }[], size: number | undefined): Promise<LookupResult[]> {
    const valid: { index: number; instanceId: string; phone: string }[] = [];
    const results: LookupResult[] = contacts.map(({ instanceId, phone }, index) => {
      try {
        valid.push({ index, instanceId, phone: normalizePhone(phone) });
        return empty(instanceId, phone, 'unknown');
      } catch (error) {
        return { ...empty(instanceId, phone, 'invalid'), reason: describeError(error) };
      }
    });
    const rows = valid.length > 0 ? await this.reads.lookup(valid, size) : [];
    const now = Date.now();
    const placeholderSize = snapSize(this.sizes, size)!;
    rows.forEach((row, position) => {
      const { index, instanceId, phone } = valid[position]!;
      const signedSize = row.rendition?.size ?? placeholderSize;
      results[index] = {
        instanceId,
        phone,
        status: statusOf(row),
        url: this.links.signedUrl(instanceId, phone, signedSize, { now }),
        width: row.rendition?.width ?? null,
        height: row.rendition?.height ?? null,
        dominantColor: row.rendition ? row.dominantColor : null,
        thumbhash: row.rendition ? row.thumbhash : null,
      };
    });
    return results;
  }
}

function empty(instanceId: string, phone: string, status: LookupStatus): LookupResult {
  return { instanceId, phone, status, url: null, width: null, height: null, dominantColor: null, thumbhash: null };
}

function statusOf(row: LookupRow): LookupStatus {
  if (row.rendition) return 'archived';
  if (row.contactId === null) return 'unknown';
  if (row.doNotArchive || row.status === 'NO_PICTURE') return 'no_picture';
  return row.status === 'FAILED' ? 'failed' : 'pending';
}
