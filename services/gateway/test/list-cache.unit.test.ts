import { describe, expect, it } from 'vitest';
import type { ServiceAnswer } from '../src/http/service-client.js';
import { ListCache } from '../src/read/list-cache.js';

const answer = (body: string, cache: string, extra: Partial<ServiceAnswer> = {}): ServiceAnswer => ({
  status: 200,
  contentType: 'application/json',
  headers: { 'x-cache': cache },
  body: Buffer.from(body),
  ...extra,
});

/** A read service that answers from a list of answers and counts its calls. */
function readService(...answers: ServiceAnswer[]) {
  const served = { calls: 0 };
  const fetch = async () => answers[Math.min(served.calls++, answers.length - 1)]!;
  return { served, fetch };
}

function cacheAt(ttlMs: number) {
  const clock = { now: 1_000_000 };
  return { clock, cache: new ListCache(ttlMs, () => clock.now, 3) };
}

describe('the gateway list cache', () => {
  it("serves a page the read service had cached for the cache's time, then asks again", async () => {
    const { clock, cache } = cacheAt(200);
    const read = readService(answer('v1', 'hit'), answer('v2', 'hit'));
    expect((await cache.get('q', read.fetch)).body.toString()).toBe('v1');
    clock.now += 199;
    expect((await cache.get('q', read.fetch)).body.toString()).toBe('v1');
    clock.now += 1;
    expect((await cache.get('q', read.fetch)).body.toString()).toBe('v2');
    expect(read.served.calls).toBe(2);
  });

  it('keeps a page no longer than the instant its highlights stay true', async () => {
    const { clock, cache } = cacheAt(200);
    const read = readService(answer('v1', 'hit', { validUntil: clock.now + 50 }), answer('v2', 'hit'));
    await cache.get('q', read.fetch);
    clock.now += 49;
    expect((await cache.get('q', read.fetch)).body.toString()).toBe('v1');
    clock.now += 1;
    expect((await cache.get('q', read.fetch)).body.toString()).toBe('v2');
  });

  it('never keeps a page the read service rendered (a miss, or Mongo while Redis is down) nor an error', async () => {
    const { cache } = cacheAt(200);
    const read = readService(answer('rendered', 'miss'), answer('problem', 'hit', { status: 503 }), answer('cached', 'hit'));
    for (const expected of ['rendered', 'problem', 'cached', 'cached']) expect((await cache.get('q', read.fetch)).body.toString()).toBe(expected);
    expect(read.served.calls).toBe(3);
  });

  it('sends concurrent requests for one query to the read service once', async () => {
    const { cache } = cacheAt(200);
    let release!: () => void;
    let calls = 0;
    const slow = async () => {
      calls += 1;
      await new Promise<void>((resolve) => (release = resolve));
      return answer('page', 'miss');
    };
    const pending = Promise.all([cache.get('q', slow), cache.get('q', slow), cache.get('q', slow)]);
    release();
    expect((await pending).map((a) => a.body.toString())).toEqual(['page', 'page', 'page']);
    expect(calls).toBe(1);
  });

  it('forgets everything on a write through this gateway, including a page being fetched meanwhile', async () => {
    const { cache } = cacheAt(200);
    const read = readService(answer('before', 'hit'), answer('after', 'hit'));
    await cache.get('q', read.fetch);
    cache.clear();
    expect((await cache.get('q', read.fetch)).body.toString()).toBe('after');

    let release!: () => void;
    const inFlight = cache.get('other', async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return answer('fetched before the write', 'hit');
    });
    cache.clear();
    release();
    await inFlight;
    expect((await cache.get('other', async () => answer('fetched after the write', 'hit'))).body.toString()).toBe('fetched after the write');
  });

  it('keeps the most recent queries only, and nothing at all with a time of 0', async () => {
    const { cache } = cacheAt(200);
    const read = readService(answer('page', 'hit'));
    for (const q of ['a', 'b', 'c', 'd']) await cache.get(q, read.fetch);
    await cache.get('a', read.fetch);
    expect(read.served.calls).toBe(5);
    await cache.get('d', read.fetch);
    expect(read.served.calls).toBe(5);

    const off = new ListCache(0);
    const uncached = readService(answer('page', 'hit'));
    await off.get('q', uncached.fetch);
    await off.get('q', uncached.fetch);
    expect(uncached.served.calls).toBe(2);
  });
});
