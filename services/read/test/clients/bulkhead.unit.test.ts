import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '@trackme/platform';
import { Bulkhead } from '../../src/clients/bulkhead.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('Bulkhead', () => {
  it('runs up to its concurrency at once, queues up to its limit, and refuses the rest with a 503', async () => {
    const bulkhead = new Bulkhead(2, 1, 'list reads');
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      bulkhead.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(bulkhead.queued).toBe(1);

    const refused = await bulkhead.run(async () => 'never').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DependencyUnavailableError);
    expect((refused as DependencyUnavailableError).status).toBe(503);

    gates[0]!.open();
    expect(await runs[0]).toBe(0);
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.open();
    gates[2]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(bulkhead.inUse).toBe(0);
  });

  it('frees its slot when a task fails', async () => {
    const bulkhead = new Bulkhead(1, 0, 'list reads');
    await expect(bulkhead.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await bulkhead.run(async () => 'next')).toBe('next');
  });
});
