import { groupFailures, reasonOf } from '../../../src/console/failure-routes.js';
import { coverage, overviewView } from '../../../src/console/overview-view.js';
import type { StatusOverview } from '../../../src/status/status-overview.js';

const queue = { waiting: 2, prioritized: 1, active: 1, delayed: 0 };

function summary(overrides: Partial<StatusOverview> = {}): StatusOverview {
  return {
    instance: null,
    contacts: { ARCHIVED: 3, PENDING: 0, NO_PICTURE: 0, FAILED: 1 },
    dueNow: 4,
    refreshJobsQueued: 2,
    oldestDue: '2026-12-04T10:00:00.000Z',
    schedule: { cron: '0 3 * * *', timezone: 'UTC', nextSweep: '2026-12-05T03:00:00.000Z' },
    lastSweep: null,
    instances: [
      {
        id: 'a',
        dueNow: 4,
        queue,
        refreshJobsQueued: 2,
        zapiCallsToday: 7,
        zapiCallsPerDay: 1000,
        breaker: { since: Date.UTC(2026, 11, 4, 9), reason: 'disconnected' } as never,
      },
      { id: 'b', dueNow: 0, queue, refreshJobsQueued: 0, zapiCallsToday: 0, zapiCallsPerDay: null, breaker: null },
    ],
    dueInUnconfiguredInstances: {},
    ...overrides,
  };
}

test('coverage is archived over all contacts, one decimal; "-" without contacts', () => {
  expect(coverage(2, 3)).toBe('66.7%');
  expect(coverage(0, 0)).toBe('-');
  expect(coverage(5, 5)).toBe('100.0%');
});

test('the overview fields: totals, per instance, budget, breakers, queue depth, sweeps', () => {
  const view = overviewView(summary(), { a: { ARCHIVED: 3, FAILED: 1 }, b: {} });
  expect(view.instanceIds).toEqual(['a', 'b']);
  expect(view.fields).toMatchObject({
    'all.total': '4',
    'all.coverage': '75.0%',
    'all.due': '4',
    'a.ARCHIVED': '3',
    'a.PENDING': '0',
    'a.coverage': '75.0%',
    'b.total': '0',
    'b.coverage': '-',
    'a.calls': '7 of 1000',
    'b.calls': '0 (no daily limit)',
    'a.breaker': 'OPEN since 2026-12-04T09:00:00.000Z (disconnected)',
    'b.breaker': 'closed',
    breakersOpen: '1',
    queueDepth: '8',
    queueDetail: 'waiting 4, prioritized 2, active 2, delayed 0',
    oldestDue: '2026-12-04T10:00:00.000Z',
    nextSweep: '2026-12-05T03:00:00.000Z (0 3 * * * UTC)',
    lastSweep: 'none yet',
  });
  const off = overviewView(
    summary({ schedule: { cron: null, timezone: 'UTC', nextSweep: null }, oldestDue: null }),
    {},
  );
  expect(off.fields).toMatchObject({ nextSweep: 'off (REFRESH_CRON=off)', oldestDue: 'nothing due' });
});

test('dead letters are grouped by instance and the error code last_error starts with', () => {
  expect(reasonOf('ZAPI_REJECTED: Z-API answered 400')).toBe('ZAPI_REJECTED');
  expect(reasonOf('something odd')).toBe('UNKNOWN');
  expect(reasonOf(null)).toBe('UNKNOWN');
  const failed = (instanceId: string, phone: string, lastError: string) => ({
    instanceId,
    phone,
    lastError,
    lastErrorAt: null,
    consecutiveFailures: 1,
  });
  const groups = groupFailures([
    failed('b', '1', 'IMAGE_INVALID: x'),
    failed('a', '2', 'ZAPI_REJECTED: y'),
    failed('a', '3', 'IMAGE_INVALID: z'),
    failed('a', '4', 'IMAGE_INVALID: w'),
  ]);
  expect(groups.map((group) => [group.instanceId, group.reason, group.contacts.map((c) => c.phone)])).toEqual([
    ['a', 'IMAGE_INVALID', ['3', '4']],
    ['a', 'ZAPI_REJECTED', ['2']],
    ['b', 'IMAGE_INVALID', ['1']],
  ]);
});
