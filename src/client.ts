import type { AvatarLinks } from './avatars/avatar-links.js';
import { avatarLinks } from './avatars/avatar-services.js';
import { loadConfig } from './config.js';
import { Container } from './container.js';
import type { IntakeItem, IntakeResult } from './hooks/contact-intake.js';
import { readContactState, type ContactState } from './hooks/contact-state.js';
import { normalizePhone } from './domain/phone.js';
import { createLogger } from './logger.js';
import { instanceChange, newInstance, type InstanceChange, type NewInstance } from './instances/instance-input.js';
import type { InstanceView } from './instances/instance-registry.js';
import type { InstanceHealth } from './instances/instance-health.js';
import type { RemovalResult } from './instances/instance-removal.js';

export type {
  ContactState,
  InstanceChange,
  InstanceHealth,
  InstanceView,
  IntakeItem,
  IntakeResult,
  NewInstance,
  RemovalResult,
};
export { RegistryError } from './instances/instance-registry.js';

/** Explicit settings; anything left out is read from the environment variables of the same meaning. */
export interface AvatarArchiverOptions {
  /** DATABASE_URL */
  databaseUrl?: string;
  /** REDIS_URL */
  redisUrl?: string;
  /** QUEUE_PREFIX: the worker's, so the jobs reach it. */
  queuePrefix?: string;
  /** ZAPI_INSTANCES (or ZAPI_INSTANCE_ID/ZAPI_INSTANCE_TOKEN): the instances contacts may be queued for. */
  instances?: { id: string; token: string }[];
  /** INSTANCE_TOKEN_KEY: needed to add instances or change their tokens. */
  instanceTokenKey?: string;
  /** LOG_LEVEL (default: warn, so the host app's logs stay its own). */
  logLevel?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * For Node apps that share Postgres and Redis with the worker and want a typed call
 * instead of HTTP: `enqueue` creates contacts and queues them ahead of any sweep (what
 * POST /v1/contacts does), `get` reads a contact's avatar (GET /v1/contacts/...).
 */
export class AvatarArchiver {
  private readonly container: Container;
  private readonly links: AvatarLinks;

  constructor(options: AvatarArchiverOptions = {}) {
    const env = options.env ?? process.env;
    const explicit: Record<string, string | undefined> = {
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: options.queuePrefix,
      ZAPI_INSTANCES: options.instances?.map((instance) => `${instance.id}:${instance.token}`).join(','),
      INSTANCE_TOKEN_KEY: options.instanceTokenKey,
      LOG_LEVEL: options.logLevel ?? env.LOG_LEVEL ?? 'warn',
    };
    const merged = {
      ...env,
      ...Object.fromEntries(Object.entries(explicit).filter(([, value]) => value !== undefined)),
    };
    if (options.instances) {
      delete merged.ZAPI_INSTANCE_ID;
      delete merged.ZAPI_INSTANCE_TOKEN;
    }
    const config = loadConfig(merged);
    this.container = new Container(config, createLogger(config.logLevel));
    this.links = avatarLinks(config);
  }

  /** One result per contact, in order; a phone given as a string uses the only configured instance. */
  async enqueue(contacts: string | IntakeItem | (string | IntakeItem)[]): Promise<IntakeResult[]> {
    const items = [contacts].flat().map((item) => (typeof item === 'string' ? { phone: item } : item));
    // Watching: a long-lived app sees instances added to the registry without a restart.
    await this.container.openInstances({ watch: true });
    return this.container.intake.contactIntake().submit(items);
  }

  /** The contact's avatar state, or null when it is unknown. Throws on an invalid phone. */
  async get(instanceId: string, phone: string): Promise<ContactState | null> {
    return readContactState(this.container.contacts, instanceId, normalizePhone(phone), this.links);
  }

  /**
   * A signed avatar URL for an `<img>` tag (GET /v1/avatars/...): it shows the contact's
   * current picture whenever it is loaded, until it expires. Needs SERVICE_URL and
   * AVATAR_URL_SECRET (or AVATAR_URLS_PUBLIC=true) as the service has them.
   */
  avatarUrl(instanceId: string, phone: string, options: { size?: number; expiresInMs?: number } = {}): string {
    const url = this.links.signedUrl(instanceId, normalizePhone(phone), options.size, {
      ...(options.expiresInMs === undefined ? {} : { expiresInMs: options.expiresInMs }),
    });
    if (url === null)
      throw new Error('avatarUrl needs AVATAR_URL_SECRET (or AVATAR_URLS_PUBLIC=true), as the service has them');
    return url;
  }

  /** Registers an instance (POST /v1/instances); every running worker picks it up within seconds. */
  async addInstance(instance: NewInstance): Promise<InstanceView> {
    return this.container.tenancy.registry().add(newInstance.parse(instance), 'api');
  }

  async listInstances(): Promise<InstanceView[]> {
    return this.container.tenancy.registry().list();
  }

  /** The instance with its health (GET /v1/instances/{id}); throws RegistryError `not_found`. */
  async getInstance(id: string): Promise<InstanceView & { health: InstanceHealth }> {
    const view = await this.container.tenancy.registry().get(id);
    await this.container.openInstances();
    return { ...view, health: await this.container.tenancy.health().read(id) };
  }

  async updateInstance(id: string, change: InstanceChange): Promise<InstanceView> {
    return this.container.tenancy.registry().set(id, instanceChange.parse(change));
  }

  /** Unregisters it and drops its queued jobs; `purge` also erases its contacts (needs the S3 settings). */
  async removeInstance(id: string, options: { purge?: boolean } = {}): Promise<RemovalResult> {
    return this.container.tenancy.removal().remove(id, { purge: options.purge ?? false });
  }

  async close(): Promise<void> {
    await this.container.close();
  }
}
