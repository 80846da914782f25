import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** The Container's Redis connections, each kind with the retry behaviour its use needs; closed together. */
export class RedisConnections {
  private readonly opened: Redis[] = [];
  private producerConnection: Redis | undefined;
  private commandConnection: Redis | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  /** Producers fail fast when Redis is down instead of buffering commands in memory. */
  producer(): Redis {
    this.producerConnection ??= this.open({ enableOfflineQueue: false });
    return this.producerConnection;
  }

  /** Workers block on Redis and must never give up on a command (BullMQ's requirement). */
  worker(): Redis {
    return this.open({ maxRetriesPerRequest: null });
  }

  /** For short commands (the console's sessions): waits for the connection, then fails after one retry when Redis is down. */
  command(): Redis {
    this.commandConnection ??= this.open({ maxRetriesPerRequest: 1 });
    return this.commandConnection;
  }

  open(options: { enableOfflineQueue?: boolean; maxRetriesPerRequest?: number | null }): Redis {
    const connection = new Redis(this.url, { ...options, lazyConnect: false });
    connection.on('error', (error) => this.logger.warn({ error: error.message }, 'redis connection error'));
    this.opened.push(connection);
    return connection;
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((connection) => connection.quit().catch(() => connection.disconnect())));
  }
}
