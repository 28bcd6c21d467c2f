import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Period } from '../periods.js';

const RELEASE_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * Redis locks of rollups: a scheduled period is claimed by one replica (the claim expires, so a
 * replica that died mid-run does not block the next check), and one period is never computed by
 * two runs at once.
 */
export class RollupLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly claimMs: number,
  ) {}

  /** True for the one replica that should run this scheduled period now. */
  async claim(period: Period): Promise<boolean> {
    const answer = await this.redis.set(`${this.prefix}schedule:${period.interval}:${period.key}`, randomUUID(), 'PX', this.claimMs, 'NX');
    return answer === 'OK';
  }

  /** Runs `fn` holding the period's run lock, waiting up to `waitMs` for another run to finish. */
  async exclusive<T>(period: Period, fn: () => Promise<T>, waitMs = 60_000): Promise<T> {
    const key = `${this.prefix}run:${period.interval}:${period.key}`;
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    while ((await this.redis.set(key, token, 'PX', this.claimMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`another rollup of ${period.interval} ${period.key} is still running`);
      await sleep(250);
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE_IF_OURS, 1, key, token).catch(() => undefined);
    }
  }
}
