import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../instances/instance-registry.js';
import type { ConsoleDeps } from './console-deps.js';
import { backWith, flashFrom, renderPage } from './render.js';
import { ADMIN_PATH } from './session.js';

const BACK = `${ADMIN_PATH}/instances`;

/** Instances: the registry with each one's health; enable, disable, and a sweep now. */
export function instanceRoutes(deps: Pick<ConsoleDeps, 'registry' | 'health' | 'sweepNow'>) {
  return async (app: FastifyInstance) => {
    app.get('/instances', async (request, reply) => {
      const instances = await deps.registry.list();
      const rows = await Promise.all(
        instances.map(async (instance) => ({ ...instance, health: await deps.health.read(instance.id) })),
      );
      return renderPage(request, reply, 'instances', {
        title: 'Instances',
        nav: 'instances',
        flash: flashFrom(request, reply),
        rows,
      });
    });

    app.post('/instances/:id/enabled', async (request, reply) => {
      const { id } = request.params as { id: string };
      const enabled = (request.body as { enabled?: unknown } | undefined)?.enabled === 'true';
      try {
        await deps.registry.set(id, { enabled });
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        return backWith(reply, BACK, 'error', error.message);
      }
      return backWith(reply, BACK, 'ok', `${id} ${enabled ? 'enabled' : 'disabled'}`);
    });

    app.post('/instances/:id/sweep', async (request, reply) => {
      const { id } = request.params as { id: string };
      const sweepId = await deps.sweepNow(id);
      if (sweepId === null) return backWith(reply, BACK, 'error', `${id} is not enabled: nothing to sweep`);
      return backWith(reply, BACK, 'ok', `sweep #${sweepId} of ${id} started; the workers queue its contacts`);
    });
  };
}
