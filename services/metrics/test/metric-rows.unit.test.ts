import { describe, expect, it } from 'vitest';
import { metricRowsOf, type RollupDocument } from '../src/rollup/rollups.js';

/** A stored day rollup with an unlabelled, a labelled and a two-label row. */
function rollup(rows: RollupDocument['rows'], calculatedAt = '2026-11-03T00:01:00.000Z'): RollupDocument {
  return { _id: 'day|2026-11-02', interval: 'day', period_start: '2026-11-02', calculated_at: new Date(calculatedAt), rows };
}

const stored = rollup([
  { type: 'dau', labels: {}, value: 12 },
  { type: 'source-conversion', labels: { source: 'web' }, value: 0.5 },
  { type: 'transitions', labels: { from: 'lead', to: 'offer' }, value: 3 },
]);

describe('metric rows as GET /metrics answers them', () => {
  it("carries the older service's id, created_at and metadata next to today's fields", () => {
    const [dau, web] = metricRowsOf(stored);
    expect(web).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      type: 'source-conversion',
      value: 0.5,
      interval: 'day',
      period_start: '2026-11-02',
      labels: { source: 'web' },
      metadata: { source: 'web' },
      calculated_at: '2026-11-03T00:01:00.000Z',
      created_at: '2026-11-03T00:01:00.000Z',
    });
    expect(dau).toMatchObject({ metadata: {}, created_at: '2026-11-03T00:01:00.000Z' });
  });

  it('gives every row of a period its own id, and the same id when the period is computed again', () => {
    const ids = metricRowsOf(stored).map((r) => r.id);
    expect(new Set(ids).size).toBe(3);
    const again = rollup(
      [
        { type: 'transitions', labels: { to: 'offer', from: 'lead' }, value: 4 },
        { type: 'dau', labels: {}, value: 13 },
        { type: 'source-conversion', labels: { source: 'web' }, value: 0.75 },
      ],
      '2026-11-03T06:00:00.000Z',
    );
    const byType = (rows: ReturnType<typeof metricRowsOf>) => Object.fromEntries(rows.map((r) => [r.type, r.id]));
    expect(byType(metricRowsOf(again))).toEqual(byType(metricRowsOf(stored)));
  });

  it('gives the same labels in another period or interval another id', () => {
    const [, web] = metricRowsOf(stored);
    const nextDay = metricRowsOf({ ...stored, _id: 'day|2026-11-03', period_start: '2026-11-03' })[1]!;
    const week = metricRowsOf({ ...stored, _id: 'week|2026-11-02', interval: 'week' })[1]!;
    expect(new Set([web!.id, nextDay.id, week.id]).size).toBe(3);
  });

  it('answers conversion rows stored with a source or channel label under source-conversion and channel-conversion', () => {
    const older = rollup([
      { type: 'conversion', labels: {}, value: 0.4 },
      { type: 'conversion', labels: { source: 'web' }, value: 0.5 },
      { type: 'conversion', labels: { channel: 'paid' }, value: 0.25 },
    ]);
    expect(metricRowsOf(older).map((r) => [r.type, r.labels])).toEqual([
      ['conversion', {}],
      ['source-conversion', { source: 'web' }],
      ['channel-conversion', { channel: 'paid' }],
    ]);
    expect(metricRowsOf(older, 'conversion').map((r) => r.value)).toEqual([0.4]);
    expect(metricRowsOf(older, 'channel-conversion').map((r) => r.value)).toEqual([0.25]);
  });
});
