import { describe, expect, it } from 'vitest';
import { bySize } from '../src/index.js';

const record = (bytes: number, key = 'k') => ({ key, value: 'x'.repeat(bytes), headers: { 'trackme-type': 'T' } });

describe('bySize', () => {
  it('keeps records in order and every request under the limit', () => {
    const records = Array.from({ length: 100 }, (_, i) => record(1_000, `k${i}`));
    const chunks = [...bySize(records, 10_000)];
    expect(chunks.flat()).toEqual(records);
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(chunk.reduce((n, r) => n + r.value.length, 0)).toBeLessThanOrEqual(10_000);
  });

  it('sends a record larger than the limit on its own rather than dropping it', () => {
    const big = record(50_000);
    expect([...bySize([record(10), big, record(10)], 10_000)]).toEqual([[record(10)], [big], [record(10)]]);
  });

  it('makes one request of a few small records', () => {
    expect([...bySize([record(10), record(10)], 10_000)]).toHaveLength(1);
  });
});
