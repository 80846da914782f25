import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import { z } from 'zod';
import { MAX_DISPLAY_NAME_LENGTH } from '../domain/display-name.js';
import { archiveJobPayload } from '../jobs/archive-job.js';
import type { Logger } from '../logger.js';

/**
 * The webhook's durable hand-off: a Redis stream that a delivery is written to before Z-API
 * gets its 200, and that a drainer reads from afterwards to create and queue the contacts.
 * Answering after one Redis round trip (instead of after the SQL statement and the queue's
 * Lua scripts) is what keeps a burst of deliveries answered in milliseconds; writing to a
 * stream rather than doing that work in the background of the request is what keeps an
 * answered delivery from being lost when the process dies right after answering.
 *
 * Readers form one consumer group, so any number of `serve` processes can share the stream:
 * an entry is acknowledged (and deleted) only once its contact is created and queued, and
 * entries left unacknowledged by a process that died are claimed by another after a minute.
 */

/**
 * What an entry holds: the contact's archive job, and its name from the message, which goes
 * to Postgres with the contact and not into the job (job data carries identifiers only).
 * Entries written before names were kept have none.
 */
export const webhookDelivery = archiveJobPayload.extend({ name: z.string().max(MAX_DISPLAY_NAME_LENGTH).optional() });
export type WebhookDelivery = z.infer<typeof webhookDelivery>;

export interface InboxEntry {
  id: string;
  delivery: WebhookDelivery;
}

export interface InboxDelivery extends WebhookDelivery {
  /** Z-API's messageId: the same message delivered twice is written once. */
  messageId: string | undefined;
}

// Z-API retries a delivery it thinks failed; a day covers its retries many times over.
const SEEN_MESSAGE_TTL_SECONDS = 86_400;
const GROUP = 'drainers';
/** An entry unacknowledged this long belongs to a reader that died or hangs. */
const CLAIM_IDLE_MS = 60_000;
/** Readers of processes that are gone, with nothing pending, are dropped from the group after this. */
const FORGET_CONSUMER_IDLE_MS = 3_600_000;

// KEYS[1]: the stream; KEYS[2..]: one "seen" key per delivery that has a message id.
// ARGV[1]: the seen keys' TTL; then pairs of (index of the seen key in KEYS or 0, entry JSON).
// Atomic per call, so a crash can never leave a message marked seen but not written.
const ACCEPT_SCRIPT = `
local accepted = {}
for i = 2, #ARGV, 2 do
  local seen = tonumber(ARGV[i])
  if seen == 0 or redis.call('SET', KEYS[seen], '1', 'EX', ARGV[1], 'NX') then
    redis.call('XADD', KEYS[1], '*', 'd', ARGV[i + 1])
    accepted[#accepted + 1] = 1
  else
    accepted[#accepted + 1] = 0
  end
end
return accepted`;

export const webhookInboxStream = (prefix: string) => `${prefix}:webhook-inbox`;

type StreamEntry = [id: string, fields: string[] | null];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    avatarArchiverWebhookAccept(keyCount: number, ...args: (string | number)[]): Result<number[], Context>;
  }
}

export class WebhookInbox {
  readonly stream: string;
  /** Unique per process: what XINFO CONSUMERS shows. */
  readonly consumer = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly seenPrefix: string;
  private readonly logger: Logger;
  private readonly claimIdleMs: number;

  /**
   * @param writer the producer connection (answers fast or fails fast).
   * @param reader a connection of its own: reads block on it for up to a second.
   */
  constructor(
    private readonly writer: Redis,
    private readonly reader: Redis,
    options: { prefix: string; logger: Logger; claimIdleMs?: number },
  ) {
    const { prefix } = options;
    this.logger = options.logger;
    this.claimIdleMs = options.claimIdleMs ?? CLAIM_IDLE_MS;
    this.stream = webhookInboxStream(prefix);
    this.seenPrefix = `${prefix}:webhook-seen`;
    // Defined once per connection; ioredis then sends EVALSHA, loading the script when Redis lacks it.
    if (typeof (writer as Partial<Redis>).avatarArchiverWebhookAccept !== 'function') {
      writer.defineCommand('avatarArchiverWebhookAccept', { lua: ACCEPT_SCRIPT });
    }
  }

  /** Writes each delivery whose message was not seen before: true for those, false for repeats. */
  async accept(deliveries: InboxDelivery[]): Promise<boolean[]> {
    const keys = [this.stream];
    const args: (string | number)[] = [SEEN_MESSAGE_TTL_SECONDS];
    for (const { messageId, ...delivery } of deliveries) {
      if (messageId === undefined) args.push(0);
      else
        args.push(
          keys.push(`${this.seenPrefix}:${encodeURIComponent(delivery.instanceId)}:${encodeURIComponent(messageId)}`),
        );
      args.push(JSON.stringify(delivery));
    }
    const accepted = await this.writer.avatarArchiverWebhookAccept(keys.length, ...keys, ...args);
    return accepted.map((flag) => flag === 1);
  }

  async createGroup(): Promise<void> {
    try {
      await this.reader.xgroup('CREATE', this.stream, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }

  /** Entries this reader took before and has not acknowledged (a batch that failed). */
  async readPending(count: number): Promise<InboxEntry[]> {
    return this.decode(
      streamEntries(
        await this.reader.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', count, 'STREAMS', this.stream, '0'),
      ),
    );
  }

  /** New entries, waiting up to `blockMs` for the first (0: not at all). */
  async readNew(count: number, blockMs: number): Promise<InboxEntry[]> {
    const reply =
      blockMs === 0
        ? await this.reader.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', count, 'STREAMS', this.stream, '>')
        : await this.reader.xreadgroup(
            'GROUP',
            GROUP,
            this.consumer,
            'COUNT',
            count,
            'BLOCK',
            blockMs,
            'STREAMS',
            this.stream,
            '>',
          );
    return this.decode(streamEntries(reply));
  }

  /** Takes over entries another reader left unacknowledged for a minute, and forgets long-gone readers. */
  async claimAbandoned(count: number): Promise<InboxEntry[]> {
    const [, entries] = (await this.reader.xautoclaim(
      this.stream,
      GROUP,
      this.consumer,
      this.claimIdleMs,
      '0',
      'COUNT',
      count,
    )) as [string, StreamEntry[]];
    const consumers = (await this.reader.xinfo('CONSUMERS', this.stream, GROUP)) as (string | number)[][];
    for (const fields of consumers) {
      const info = Object.fromEntries(pairs(fields));
      if (info.name !== this.consumer && info.pending === 0 && Number(info.idle) > FORGET_CONSUMER_IDLE_MS) {
        await this.reader.xgroup('DELCONSUMER', this.stream, GROUP, String(info.name));
      }
    }
    return this.decode(entries);
  }

  /** Done with these entries: acknowledged and deleted, so the stream holds only work left. */
  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.reader
      .multi()
      .xack(this.stream, GROUP, ...ids)
      .xdel(this.stream, ...ids)
      .exec();
  }

  /** What does not parse is dropped (acknowledged) with an error line. */
  private async decode(entries: StreamEntry[]): Promise<InboxEntry[]> {
    const decoded: InboxEntry[] = [];
    const unreadable: string[] = [];
    for (const [id, fields] of entries) {
      const parsed = fields ? webhookDelivery.safeParse(safeJson(fields[1])) : undefined;
      if (parsed?.success) decoded.push({ id, delivery: parsed.data });
      else unreadable.push(id);
    }
    if (unreadable.length > 0) {
      // Only this process writes the stream, always valid JSON: something else wrote these.
      this.logger.error({ stream: this.stream, ids: unreadable }, 'unreadable webhook inbox entries dropped');
      await this.ack(unreadable);
    }
    return decoded;
  }
}

/** The one stream's entries in an XREADGROUP reply (null when nothing came). */
function streamEntries(reply: unknown): StreamEntry[] {
  return (reply as [string, StreamEntry[]][] | null)?.[0]?.[1] ?? [];
}

function pairs(fields: (string | number)[]): [string, string | number][] {
  const result: [string, string | number][] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) result.push([String(fields[index]), fields[index + 1]!]);
  return result;
}

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
