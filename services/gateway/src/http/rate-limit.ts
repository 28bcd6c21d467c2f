import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { RateLimitedError, type Logger } from '@trackme/platform';

export interface RateLimits {
  /** requests per window of one authenticated caller (by token subject) */
  perCaller: number;
  /** requests per window from one IP without a valid token */
  perAddress: number;
  /**
   * reads per window of one caller that skip the caches (`Cache-Control: no-cache`): each reaches
   * Mongo, so a caller flooding them would slow everyone's writes
   */
  bypassPerCaller: number;
  windowMs: number;
}

/** One round trip and one command per request: the count, with its expiry set by the first one. */
const COUNT_IN_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * Fixed-window request counters in Redis, shared by every gateway instance. A Redis that is down
 * lets requests through (counted in trackme_rate_limit_unchecked_total): refusing everyone
 * because the limiter is away would turn a cache outage into an API outage.
 */
export class RateLimiter {
  private readonly refused: Counter<'kind'>;
  private readonly unchecked: Counter;

  constructor(
    private readonly redis: Redis,
    private readonly limits: RateLimits,
    private readonly logger: Logger,
    registry?: Registry,
    private readonly prefix = 'trackme:ratelimit:',
  ) {
    this.refused = new Counter({ name: 'trackme_rate_limited_total', help: 'Requests refused with 429, by budget (caller, address, no_cache)', labelNames: ['kind'], registers: registry ? [registry] : [] });
    this.unchecked = new Counter({ name: 'trackme_rate_limit_unchecked_total', help: 'Requests let through unchecked because Redis did not answer', registers: registry ? [registry] : [] });
  }

  /** Counts a request of `caller` (`sub:<subject>` or `ip:<address>`); throws RateLimitedError beyond its limit. */
  async take(caller: string, authenticated: boolean): Promise<void> {
    const kind = authenticated ? 'caller' : 'address';
    return this.count(caller, authenticated ? this.limits.perCaller : this.limits.perAddress, kind);
  }

  /** Counts a read of `caller` that skips the caches, on top of its request budget. */
  async takeBypass(caller: string): Promise<void> {
    return this.count(`no-cache:${caller}`, this.limits.bypassPerCaller, 'no_cache');
  }

  private async count(caller: string, limit: number, kind: string): Promise<void> {
    // a budget turned off (0 in the configuration) costs no round trip
    if (limit >= Number.MAX_SAFE_INTEGER) return;
    const { windowMs } = this.limits;
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const key = `${this.prefix}${caller}:${window}`;
    let count: number;
    try {
      count = Number(await this.redis.eval(COUNT_IN_WINDOW, 1, key, windowMs * 2));
    } catch (error) {
      this.unchecked.inc();
      this.logger.warn({ err: error }, 'rate limit not checked (Redis unavailable)');
      return;
    }
    if (count > limit) {
      this.refused.inc({ kind });
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
      const what = kind === 'no_cache' ? 'reads with Cache-Control: no-cache' : 'requests';
      throw new RateLimitedError(`more than ${limit} ${what} in ${windowMs / 1000} s; retry in ${retryAfter} s`, retryAfter);
    }
  }
}
