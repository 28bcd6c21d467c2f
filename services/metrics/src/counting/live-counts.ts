import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { MetricInterval } from '@trackme/contracts';
import type { Logger } from '@trackme/platform';
import type { Calendar } from '../periods.js';

/** How long a period's HyperLogLog is kept after the period ends. */
export const HLL_KEEP_DAYS: Record<MetricInterval, number> = { day: 35, week: 100, month: 400 };

/**
 * Live distinct-login estimates in Redis HyperLogLogs (about 12 KB per period, ±0.81%), one per
 * day, week and month: cheap to read at any moment, while the exact figures need a rollup.
 * Adding the same client twice changes nothing, so a repeated event is harmless here too.
 */
export class LiveCounts {
  private readonly failures: Counter;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly calendar: Calendar,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    this.failures = new Counter({
      name: 'trackme_metrics_live_count_failures_total',
      help: 'Batches whose logins could not be added to the live HyperLogLogs (Redis unavailable); the exact counts are not affected',
      registers: registry ? [registry] : [],
    });
  }

  private key(interval: MetricInterval, periodStart: string): string {
    return `${this.prefix}hll:${interval}:${periodStart}`;
  }

  /** Adds members by `<interval>:<period start>`. Redis being down costs the estimate, never the exact counts. */
  async add(members: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    if (members.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [name, ids] of members) {
      const [interval, periodStart] = name.split(':') as [MetricInterval, string];
      const period = this.calendar.periodOfDate(interval, periodStart);
      if (!period) continue;
      const key = this.key(interval, periodStart);
      pipeline.pfadd(key, ...ids);
      pipeline.pexpireat(key, period.end + HLL_KEEP_DAYS[interval] * 86_400_000);
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      this.failures.inc();
      this.logger.warn({ err: error }, 'live login estimates not updated (Redis unavailable)');
    }
  }

  /** The estimate of a period, or undefined when its key is gone (expired, never written, or Redis down). */
  async estimate(interval: MetricInterval, periodStart: string): Promise<number | undefined> {
    try {
      const key = this.key(interval, periodStart);
      const [[, exists], [, count]] = (await this.redis.multi().exists(key).pfcount(key).exec()) as [[unknown, number], [unknown, number]];
      return exists ? count : undefined;
    } catch {
      return undefined;
    }
  }
}
