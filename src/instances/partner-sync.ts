import { ArchiveError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PartnerInstance, ZapiPartnerSource } from '../zapi/zapi-partner.js';
import type { InstanceRegistry } from './instance-registry.js';

export interface SyncResult {
  listed: number;
  added: number;
  /** Token or name changed. */
  updated: number;
  /** Back in the listing after the sync had disabled them. */
  reenabled: number;
  /** Vanished from the listing: disabled, data kept. */
  disabled: number;
  unchanged: number;
  /** Configured in the environment, which wins: left alone. */
  env: number;
  /** Listing entries without a usable id or token. */
  unreadable: number;
}

/** A sync that could not read the whole listing: it changed nothing. */
export class PartnerSyncError extends Error {
  override readonly name = 'PartnerSyncError';
}

export const VANISHED_REASON = "not in Z-API's partner listing";

export interface PartnerSyncOptions {
  registry: InstanceRegistry;
  source: ZapiPartnerSource;
  logger: Logger;
  /** Pages requested per second at most (ZAPI_MAX_REQUESTS_PER_SECOND). */
  maxRequestsPerSecond: number;
  /** Requests per page before giving up on a transient failure (default 5). */
  maxAttempts?: number;
  /** First wait after a transient failure, doubled each time (default 1 s); Retry-After wins. */
  backoffMs?: number;
}

const MAX_BACKOFF_MS = 30_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Mirrors Z-API's integrator listing into the registry: new instances are added, changed
 * tokens and names updated, instances gone from the listing disabled (never deleted, their
 * contacts kept) and enabled again when they come back. The whole listing is read before
 * anything is written, so a failed or inconsistent read changes nothing. Instances disabled
 * by hand stay disabled, and a label set by hand on a non-partner row is kept.
 */
export class PartnerSync {
  constructor(private readonly options: PartnerSyncOptions) {}

  async run(): Promise<SyncResult> {
    const { listed, unreadable } = await this.readListing();
    const result = await this.apply(listed);
    result.unreadable = unreadable;
    this.options.logger.info({ ...result }, 'partner sync done');
    return result;
  }

  private async readListing(): Promise<{ listed: Map<string, PartnerInstance>; unreadable: number }> {
    const listed = new Map<string, PartnerInstance>();
    let unreadable = 0;
    let total = 0;
    for (let page = 1, totalPage = 1; page <= totalPage; page++) {
      const answer = await this.page(page);
      totalPage = answer.totalPage;
      total = answer.total;
      unreadable += answer.unreadable;
      for (const instance of answer.instances) {
        if (listed.has(instance.id)) {
          throw new PartnerSyncError(
            `instance ${instance.id} was listed twice: the listing changed while it was read; nothing changed, the next sync tries again`,
          );
        }
        listed.set(instance.id, instance);
      }
      if (answer.instances.length + answer.unreadable === 0) break;
    }
    if (listed.size + unreadable !== total) {
      throw new PartnerSyncError(
        `the listing says ${total} instance(s) but ${listed.size + unreadable} were read: it changed while it was read; nothing changed, the next sync tries again`,
      );
    }
    return { listed, unreadable };
  }

  private async page(page: number) {
    const { source, maxRequestsPerSecond, maxAttempts = 5, backoffMs = 1_000 } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (page > 1 || attempt > 1) await sleep(Math.ceil(1000 / maxRequestsPerSecond));
      try {
        return await source.getInstancesPage(page);
      } catch (error) {
        if (!(error instanceof ArchiveError)) throw error;
        if (!error.retryable || attempt >= maxAttempts) {
          throw new PartnerSyncError(
            `partner listing page ${page}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}: ${error.code}: ${error.message}; nothing changed`,
          );
        }
        await sleep(error.retryAfterMs ?? Math.min(backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS));
      }
    }
  }

  private async apply(listed: Map<string, PartnerInstance>): Promise<SyncResult> {
    const { registry } = this.options;
    const result: SyncResult = {
      listed: listed.size,
      added: 0,
      updated: 0,
      reenabled: 0,
      disabled: 0,
      unchanged: 0,
      env: 0,
      unreadable: 0,
    };
    const known = new Map((await registry.list()).map((view) => [view.id, view]));
    // An unreadable stored token (null) is replaced by the listing's.
    const tokens = await registry.storedTokens();
    const fresh = [...listed.values()].filter((instance) => !known.has(instance.id));
    const { added } = await registry.addMany(
      fresh.map((instance) => ({
        id: instance.id,
        token: instance.token,
        ...(instance.name ? { label: instance.name } : {}),
      })),
      'partner',
    );
    result.added = added.length;
    for (const [id, instance] of listed) {
      const view = known.get(id);
      if (!view) continue;
      if (view.source === 'env') {
        result.env += 1;
        continue;
      }
      const token = tokens.get(id) === instance.token ? undefined : instance.token;
      const label = view.source === 'partner' && view.label !== instance.name ? instance.name : undefined;
      const reenable = !view.enabled && view.disabledReason === VANISHED_REASON;
      if (token === undefined && label === undefined && !reenable) {
        result.unchanged += 1;
        continue;
      }
      await registry.set(id, { token, label, ...(reenable ? { enabled: true } : {}) });
      if (reenable) result.reenabled += 1;
      if (token !== undefined || label !== undefined) result.updated += 1;
    }
    for (const view of known.values()) {
      if (view.source !== 'partner' || !view.enabled || listed.has(view.id)) continue;
      await registry.set(view.id, { enabled: false }, VANISHED_REASON);
      result.disabled += 1;
    }
    return result;
  }
}
