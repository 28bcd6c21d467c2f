import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { TRIGGER_ROLLUP_TYPE, Topics, type MetricInterval, type MetricRow, type RollupJob } from '@trackme/contracts';
import type { MessageProducer } from '@trackme/platform';
import { internalHeaders, waitFor, type InProcessService } from '@trackme/testkit';
import type { MetricsConfig } from '../../src/config.js';
import { periodEnd, periodStartOf, rowKey, type ExpectedRow } from './oracle.js';

/** Every period of an interval that `days` days before `now` touch, oldest first. */
export function periodsOf(interval: MetricInterval, now: Date, days: number, tz: string): string[] {
  const starts: string[] = [];
  for (let at = now.getTime() - days * 86_400_000; ; ) {
    const start = periodStartOf(new Date(at), interval, tz);
    if (starts.at(-1) !== start) starts.push(start);
    const end = periodEnd(start, interval, tz).getTime();
    if (end > now.getTime()) break;
    at = end;
  }
  return starts;
}

/** Rolls periods up through trackme.metrics-commands, as the gateway asks, and reads the stored rows. */
export async function rollUp(
  service: InProcessService<MetricsConfig>,
  producer: MessageProducer,
  interval: MetricInterval,
  starts: string[],
  now: Date,
): Promise<Map<string, MetricRow[]>> {
  const jobs = starts.map((period) => ({ period, id: randomUUID() }));
  for (const { period, id } of jobs) {
    await producer.publish(Topics.metricsCommands, interval, {
      id,
      type: TRIGGER_ROLLUP_TYPE,
      data: { job_id: id, interval, period, requested_at: now.toISOString(), actor: { subject: 'test' } },
    });
  }
  for (const { id } of jobs) {
    const job = await waitFor(async () => {
      const answer = await service.app.inject({ url: `/internal/metrics/jobs/${id}`, headers: internalHeaders() });
      const data = answer.statusCode === 200 ? answer.json<{ data: RollupJob }>().data : undefined;
      return data && (data.status === 'succeeded' || data.status === 'failed') ? data : undefined;
    }, { what: `rollup job ${id}`, timeoutMs: 60_000 });
    expect(job.status, job.error).toBe('succeeded');
  }
  const rows: MetricRow[] = [];
  for (let offset = 0, total = 1; offset < total; offset += 1000) {
    const answer = await service.app.inject({
      url: `/internal/metrics?interval=${interval}&from=${starts[0]}&to=${starts.at(-1)}&limit=1000&offset=${offset}`,
      headers: internalHeaders(),
    });
    const page = answer.json<{ data: MetricRow[]; meta: { total: number } }>();
    rows.push(...page.data);
    total = page.meta.total;
  }
  const byPeriod = new Map<string, MetricRow[]>(starts.map((s) => [s, []]));
  for (const row of rows) byPeriod.get(row.period_start)!.push(row);
  return byPeriod;
}

const exact = (rows: MetricRow[]) => rows.filter((r) => !r.labels['estimate']);
const sorted = (rows: Array<ExpectedRow | MetricRow>) =>
  rows.map((r) => ({ key: rowKey(r), value: r.value })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** The exact figures of a period (estimates aside) equal the oracle's, row for row. */
export function expectSameFigures(actual: MetricRow[], expected: ExpectedRow[], where: string): void {
  const got = sorted(exact(actual));
  const want = sorted(expected);
  expect(got.map((r) => r.key), where).toEqual(want.map((r) => r.key));
  got.forEach((row, i) => {
    const value = want[i]!.value;
    if (Number.isInteger(value) && Number.isInteger(row.value)) expect(row.value, `${where} ${row.key}`).toBe(value);
    else expect(row.value, `${where} ${row.key}`).toBeCloseTo(value, 6);
  });
}
