import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from './console-deps.js';
import { overviewView, STATUSES } from './overview-view.js';
import { renderPage } from './render.js';

export const OVERVIEW_REFRESH_MS = 5_000;

/** The overview (what `avatar-archiver status` computes) and its JSON, which the page polls. */
export function overviewRoutes(deps: Pick<ConsoleDeps, 'overview' | 'contacts'>) {
  const read = async () => {
    const summary = await deps.overview();
    const perInstance = await Promise.all(
      summary.instances.map(async (instance) => [instance.id, await deps.contacts.countByStatus(instance.id)] as const),
    );
    return overviewView(summary, Object.fromEntries(perInstance));
  };
  return async (app: FastifyInstance) => {
    app.get('/', async (request, reply) =>
      renderPage(request, reply, 'overview', {
        title: 'Overview',
        nav: 'overview',
        view: await read(),
        statuses: STATUSES,
        refreshMs: OVERVIEW_REFRESH_MS,
      }),
    );
    // The ids too: the page adds a row for an instance registered after it loaded, and drops a removed one.
    app.get('/overview.json', async () => {
      const { fields, instanceIds } = await read();
      return { fields, instanceIds };
    });
  };
}
