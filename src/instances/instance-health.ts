import type { ContactsRepository } from '../db/contacts-repository.js';
import type { ArchiveJobCounts, ArchiveQueues } from '../jobs/archive-queue.js';
import type { InstanceBreakers } from '../jobs/instance-breaker.js';
import type { ZapiCallBudget } from '../jobs/zapi-call-budget.js';

export interface InstanceHealth {
  /** Null: closed (calls flow). */
  breaker: { since: string; reason: string; nextProbeAt: string } | null;
  callsToday: number;
  /** Null: no daily limit. */
  dailyBudget: number | null;
  contacts: Record<string, number>;
  jobs: ArchiveJobCounts;
}

/** What `GET /v1/instances/{id}` adds to an instance: read from Redis and Postgres at once. */
export class InstanceHealthReader {
  constructor(
    private readonly deps: {
      breakers: Pick<InstanceBreakers, 'state'>;
      budget: Pick<ZapiCallBudget, 'usedToday' | 'perDay'>;
      contacts: Pick<ContactsRepository, 'countByStatus'>;
      queues: Pick<ArchiveQueues, 'countsOf'>;
    },
  ) {}

  async read(instanceId: string): Promise<InstanceHealth> {
    const { breakers, budget, contacts, queues } = this.deps;
    const [breaker, callsToday, byStatus, jobs] = await Promise.all([
      breakers.state(instanceId),
      budget.usedToday(instanceId),
      contacts.countByStatus(instanceId),
      queues.countsOf(instanceId),
    ]);
    return {
      breaker: breaker && {
        since: new Date(breaker.since).toISOString(),
        reason: breaker.reason,
        nextProbeAt: new Date(breaker.nextProbeAt).toISOString(),
      },
      callsToday,
      dailyBudget: budget.perDay(instanceId),
      contacts: byStatus,
      jobs,
    };
  }
}
