import type { FastifyInstance } from 'fastify';
import type { FailedContact } from '../hooks/dead-letters.js';
import type { ConsoleDeps } from './console-deps.js';
import { backWith, flashFrom, renderPage } from './render.js';
import { ADMIN_PATH } from './session.js';

export const FAILURES_SHOWN = 500;
const BACK = `${ADMIN_PATH}/failures`;

/** The error code a dead letter's last_error starts with ("ZAPI_REJECTED: ..."). */
export function reasonOf(lastError: string | null): string {
  const match = /^([A-Z][A-Z0-9_]*):/.exec(lastError ?? '');
  return match ? match[1]! : 'UNKNOWN';
}

export interface FailureGroup {
  instanceId: string;
  reason: string;
  contacts: FailedContact[];
}

export function groupFailures(contacts: FailedContact[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const contact of contacts) {
    const reason = reasonOf(contact.lastError);
    const key = `${contact.instanceId}\u0000${reason}`;
    const group = groups.get(key) ?? { instanceId: contact.instanceId, reason, contacts: [] };
    group.contacts.push(contact);
    groups.set(key, group);
  }
  return [...groups.values()].sort(
    (a, b) => a.instanceId.localeCompare(b.instanceId) || b.contacts.length - a.contacts.length,
  );
}

/** The dead letters by instance and reason; retrying one (queued as a refresh would) or a whole group / all (DeadLetters.retry, as `retry --failed`). */
export function failureRoutes(deps: Pick<ConsoleDeps, 'deadLetters' | 'intake'>) {
  return async (app: FastifyInstance) => {
    app.get('/failures', async (request, reply) => {
      const { contacts, next } = await deps.deadLetters.list({}, FAILURES_SHOWN);
      return renderPage(request, reply, 'failures', {
        title: 'Failures',
        nav: 'failures',
        flash: flashFrom(request, reply),
        groups: groupFailures(contacts),
        total: contacts.length,
        more: next !== null,
      });
    });

    app.post('/failures/retry', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const text = (name: string) => (typeof body[name] === 'string' && body[name] !== '' ? body[name] : undefined);
      const instanceId = text('instanceId');
      const phone = text('phone');
      if (phone !== undefined) {
        if (instanceId === undefined) return backWith(reply, BACK, 'error', 'which instance?');
        const [result] = await deps.intake.submit([{ instanceId, phone }]);
        if (result!.result === 'rejected') return backWith(reply, BACK, 'error', result!.reason ?? 'rejected');
        return backWith(
          reply,
          BACK,
          'ok',
          `${phone}: ${result!.result === 'queued' ? 'queued again' : 'already queued'}`,
        );
      }
      const result = await deps.deadLetters.retry({ instanceId, reason: text('reason') });
      return backWith(
        reply,
        BACK,
        'ok',
        `queued ${result.queued} failed contact(s) again; ${result.alreadyQueued} already queued; ${result.skipped} skipped (instance not configured or phone invalid)`,
      );
    });
  };
}
