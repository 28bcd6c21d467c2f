import { METRIC_INTERVALS } from '@trackme/contracts';
import type { Logger } from '@trackme/platform';
import type { Calendar, Period } from '../periods.js';

export interface SchedulerDeps {
  calendar: Calendar;
  clock: () => Date;
  /** after midnight, how long to wait for the last events of the day to be counted */
  delayMs: number;
  /** how often to check, besides midnight, that the last periods were rolled up (a missed run is caught up) */
  checkEveryMs: number;
  /** true when the period was already rolled up after it ended */
  isDone: (period: Period) => Promise<boolean>;
  /** true for the one replica that should run the period now */
  claim: (period: Period) => Promise<boolean>;
  run: (period: Period) => Promise<void>;
  logger: Logger;
}

/**
 * Scheduled rollups: just after midnight (METRICS_TZ) the day that just ended, on Mondays the
 * week, on the 1st the month. Each check looks at the last complete period of every interval and
 * runs the ones not rolled up since they ended, so a replica that was down at midnight, or died
 * mid-run, is caught up by the next check. The claim makes one replica run each period.
 */
export class RollupScheduler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private checking: Promise<Period[]> | undefined;

  constructor(private readonly deps: SchedulerDeps) {}

  /** The periods that have ended most recently, as of `now`: what a check may run. */
  lastComplete(now: number): Period[] {
    const { calendar } = this.deps;
    return METRIC_INTERVALS.map((interval) => calendar.previous(calendar.periodOf(interval, now)));
  }

  /** One check: runs every last complete period not yet rolled up; returns those it ran. */
  async check(): Promise<Period[]> {
    const now = this.deps.clock().getTime();
    const ran: Period[] = [];
    for (const period of this.lastComplete(now)) {
      // the last events of a period may still be on their way just after it ends
      if (now < period.end + this.deps.delayMs) continue;
      try {
        if (await this.deps.isDone(period)) continue;
        if (!(await this.deps.claim(period))) continue;
        await this.deps.run(period);
        ran.push(period);
      } catch (error) {
        this.deps.logger.error({ err: error, interval: period.interval, period: period.key }, 'scheduled rollup failed; the next check retries it');
      }
    }
    return ran;
  }

  /** When the next check is due: just after the coming midnight, or the regular check if sooner. */
  nextCheckAt(now: number): number {
    const { calendar } = this.deps;
    const midnight = calendar.startOfDay(calendar.dayNumber(now) + 1) + this.deps.delayMs;
    const regular = now + this.deps.checkEveryMs;
    const lastMidnight = calendar.startOfDay(calendar.dayNumber(now)) + this.deps.delayMs;
    return now < lastMidnight ? lastMidnight : Math.min(midnight, regular);
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.checking = this.check();
      void this.checking.finally(() => {
        if (this.stopped) return;
        const now = this.deps.clock().getTime();
        this.timer = setTimeout(loop, Math.max(1_000, this.nextCheckAt(now) - now));
        this.timer.unref();
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.checking?.catch(() => undefined);
  }
}
