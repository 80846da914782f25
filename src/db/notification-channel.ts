import pg from 'pg';
import type { Logger } from '../logger.js';
import { splitSchema } from './prisma-client.js';

export interface NotificationChannelOptions {
  databaseUrl: string;
  channel: string;
  /** Shows in pg_stat_activity.application_name. */
  applicationName: string;
  logger: Logger;
  /** A notification's payload. */
  onNotification(payload: string): void;
  /** LISTEN is active again after a lost connection: anything sent meanwhile was missed. */
  onReconnect(): void;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/**
 * One LISTEN on a connection of its own (a LISTEN needs a session, so not a pooled one),
 * reconnected with a doubling wait when lost. Postgres keeps no notification for a session
 * that is not listening, which is why the owner is told when it listens again.
 */
export class NotificationChannel {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs: number;

  constructor(private readonly options: NotificationChannelOptions) {
    this.delayMs = options.reconnectMinMs ?? 500;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { connectionString } = splitSchema(this.options.databaseUrl);
    const client = new pg.Client({ connectionString, application_name: this.options.applicationName });
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.options.onNotification(message.payload ?? '');
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.delayMs = this.options.reconnectMinMs ?? 500;
  }

  private lost(client: pg.Client): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.options.logger.warn({ channel: this.options.channel }, 'notification connection lost: reconnecting');
    this.retry();
  }

  private retry(): void {
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.options.logger.info({ channel: this.options.channel }, 'notification connection back');
          this.options.onReconnect();
        },
        (error: unknown) => {
          this.options.logger.warn(
            { channel: this.options.channel, error: error instanceof Error ? error.message : String(error) },
            'notification connection failed: retrying',
          );
          this.delayMs = Math.min(this.delayMs * 2, this.options.reconnectMaxMs ?? 30_000);
          this.retry();
        },
      );
    }, this.delayMs);
    this.retryTimer.unref();
  }
}
