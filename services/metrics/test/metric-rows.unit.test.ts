import { describe, expect, it } from 'vitest';
import { metricRowsOf, type RollupDocument } from '../src/rollup/rollups.js';

/** A stored day rollup. */
function rollup(rows: RollupDocument['rows'], calculatedAt = '2026-11-03T00:01:00.000Z'): RollupDocument {
  return { _id: 'day|2026-11-02', interval: 'day', period_start: '2026-11-02', calculated_at: new Date(calculatedAt), rows };
}

describe('metric rows as GET /metrics answers them', () => {
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
