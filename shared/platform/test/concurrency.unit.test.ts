import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '../src/index.js';

describe('forEachConcurrently', () => {
  it('calls fn once per item with at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(n);
      inFlight -= 1;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('does nothing for no items and rejects with the first error', async () => {
    await forEachConcurrently([], 4, () => Promise.reject(new Error('never called')));
    await expect(forEachConcurrently([1, 2], 2, async (n) => { if (n === 2) throw new Error('item 2 failed'); })).rejects.toThrow('item 2 failed');
  });
});
