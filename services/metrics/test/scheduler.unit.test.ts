import { describe, expect, it } from 'vitest';
import { createLogger } from '@trackme/platform';
import { Calendar, type Period } from '../src/periods.js';
import { RollupScheduler } from '../src/rollup/scheduler.js';

function scheduler(now: string, { done = new Set<string>(), claims = true, timeZone = 'UTC' } = {}) {
  const ran: string[] = [];
  const instance = new RollupScheduler({
    calendar: new Calendar(timeZone),
    clock: () => new Date(now),
    delayMs: 60_000,
    checkEveryMs: 15 * 60_000,
    isDone: async (p: Period) => done.has(`${p.interval} ${p.key}`),
    claim: async () => claims,
    run: async (p: Period) => void ran.push(`${p.interval} ${p.key}`),
    logger: createLogger('test', 'silent'),
  });
  return { instance, ran };
}

describe('the rollup schedule', () => {
  it('computes the day that just ended, not the one that just began', async () => {
    const { instance, ran } = scheduler('2026-11-26T00:01:00.000Z', { done: new Set(['week 2026-11-16', 'month 2026-10-01']) });
    await instance.check();
    expect(ran).toEqual(['day 2026-11-25']);
  });

  it('computes the week on Mondays and the month on the 1st', async () => {
    const monday = scheduler('2026-11-30T00:01:00.000Z', { done: new Set(['month 2026-10-01']) });
    await monday.instance.check();
    expect(monday.ran).toEqual(['day 2026-11-29', 'week 2026-11-23']);
    const first = scheduler('2026-12-01T00:01:00.000Z', { done: new Set(['week 2026-11-23']) });
    await first.instance.check();
    expect(first.ran).toEqual(['day 2026-11-30', 'month 2026-11-01']);
  });

  it('waits for the delay after midnight, and for the claim', async () => {
    const early = scheduler('2026-11-26T00:00:30.000Z', { done: new Set(['week 2026-11-16', 'month 2026-10-01']) });
    await early.instance.check();
    expect(early.ran).toEqual([]);
    const other = scheduler('2026-11-26T00:01:00.000Z', { claims: false });
    await other.instance.check();
    expect(other.ran).toEqual([]);
  });

  it('catches up a period missed while no replica ran, and leaves finished ones', async () => {
    const { instance, ran } = scheduler('2026-11-26T09:30:00.000Z', { done: new Set(['day 2026-11-25', 'month 2026-10-01']) });
    await instance.check();
    expect(ran).toEqual(['week 2026-11-16']);
  });

  it('uses local midnight in METRICS_TZ', async () => {
    // 23:01 UTC on the 25th is 00:01 on the 26th in Berlin (UTC+1 in November)
    const { instance, ran } = scheduler('2026-11-25T23:01:00.000Z', { timeZone: 'Europe/Berlin', done: new Set(['week 2026-11-16', 'month 2026-10-01']) });
    await instance.check();
    expect(ran).toEqual(['day 2026-11-25']);
  });

  it('plans the next check just after midnight, or sooner for the regular check', () => {
    const { instance } = scheduler('2026-11-26T10:00:00.000Z');
    expect(new Date(instance.nextCheckAt(Date.parse('2026-11-26T10:00:00.000Z'))).toISOString()).toBe('2026-11-26T10:15:00.000Z');
    expect(new Date(instance.nextCheckAt(Date.parse('2026-11-26T23:50:00.000Z'))).toISOString()).toBe('2026-11-27T00:01:00.000Z');
    expect(new Date(instance.nextCheckAt(Date.parse('2026-11-27T00:00:10.000Z'))).toISOString()).toBe('2026-11-27T00:01:00.000Z');
  });
});
