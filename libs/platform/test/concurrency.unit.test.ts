import { describe, expect, it } from 'vitest';
import { forEachConcurrently, Turns } from '../src/index.js';

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

describe('Turns', () => {
  it('lets `limit` holders in at once and the others in arrival order, also after a holder failed', async () => {
    const turns = new Turns(2);
    const log: string[] = [];
    const gates = new Map<string, () => void>();
    const hold = (name: string, fail = false) =>
      turns.run(async () => {
        log.push(`in ${name}`);
        await new Promise<void>((resolve) => gates.set(name, resolve));
        log.push(`out ${name}`);
        if (fail) throw new Error(`${name} failed`);
        return name;
      });
    const runs = [hold('a', true), hold('b'), hold('c'), hold('d')];
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['in a', 'in b']);
    gates.get('a')!();
    await expect(runs[0]).rejects.toThrow('a failed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['in a', 'in b', 'out a', 'in c']);
    gates.get('c')!();
    gates.get('b')!();
    await new Promise((resolve) => setImmediate(resolve));
    gates.get('d')!();
    expect(await Promise.all(runs.slice(1))).toEqual(['b', 'c', 'd']);
    expect(log.filter((l) => l.startsWith('in'))).toEqual(['in a', 'in b', 'in c', 'in d']);
  });
});
