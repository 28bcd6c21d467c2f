import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { RateLimitedError, type Logger } from '@trackme/platform';

export interface ThrottleLimits {
  /** failed sign-ins of one account per window */
  perAccount: number;
  /** failed sign-ins (and refused refresh tokens, self-registrations) from one address per window */
  perAddress: number;
  windowMs: number;
}

/** Of the counters given, the milliseconds until the first one at its limit resets (0: none is). */
const BLOCKED_FOR = `
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', key)
    if ttl > wait then wait = ttl end
  end
end
return wait`;

/** Counts a failure on each key; the window starts at its first failure. */
const COUNT_FAILURE = `
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0`;

const hashed = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/**
 * Failed sign-ins per account and per address, in Redis (shared by every gateway instance).
 * Beyond either limit a sign-in is refused with 429 and Retry-After before its password is looked
 * at, whether or not it would be right. Like the request budgets, a Redis that is down lets sign-ins
 * through (counted in trackme_login_throttle_unchecked_total).
 */
export class LoginThrottle {
  private readonly refused: Counter<'kind'>;
  private readonly unchecked: Counter;

  constructor(
    private readonly redis: Redis,
    private readonly limits: ThrottleLimits,
    private readonly logger: Logger,
    registry?: Registry,
    private readonly prefix = 'trackme:signin:',
  ) {
    const registers = registry ? [registry] : [];
    this.refused = new Counter({ name: 'trackme_login_throttled_total', help: 'Sign-ins refused with 429 after too many failures', labelNames: ['kind'], registers });
    this.unchecked = new Counter({ name: 'trackme_login_throttle_unchecked_total', help: 'Sign-in failures not counted or checked because Redis did not answer', registers });
  }

  private keys(address: string, account?: string): { keys: string[]; limits: number[] } {
    const keys = [`${this.prefix}ip:${address}`];
    const limits = [this.limits.perAddress];
    if (account !== undefined) {
      // the account's email never reaches Redis in clear
      keys.push(`${this.prefix}account:${hashed(account)}`);
      limits.push(this.limits.perAccount);
    }
    return { keys, limits };
  }

  /** Throws RateLimitedError while the address or the account is over its limit. */
  async check(address: string, account?: string): Promise<void> {
    const { keys, limits } = this.keys(address, account);
    let waitMs: number;
    try {
      waitMs = Number(await this.redis.eval(BLOCKED_FOR, keys.length, ...keys, ...limits));
    } catch (error) {
      this.unavailable(error);
      return;
    }
    if (waitMs <= 0) return;
    this.refused.inc({ kind: account === undefined ? 'address' : 'account' });
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    throw new RateLimitedError(`too many failed attempts; retry in ${retryAfter} s`, retryAfter);
  }

  async fail(address: string, account?: string): Promise<void> {
    const { keys } = this.keys(address, account);
    await this.redis.eval(COUNT_FAILURE, keys.length, ...keys, this.limits.windowMs).catch((error: unknown) => this.unavailable(error));
  }

  /** After a successful sign-in the account starts over; the address keeps its count. */
  async succeed(account: string): Promise<void> {
    await this.redis.del(`${this.prefix}account:${hashed(account)}`).catch((error: unknown) => this.unavailable(error));
  }

  private unavailable(error: unknown): void {
    this.unchecked.inc();
    this.logger.warn({ err: error }, 'sign-in throttle not checked (Redis unavailable)');
  }
}
