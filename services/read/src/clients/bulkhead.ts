import { DependencyUnavailableError } from '@trackme/platform';

/**
 * Bounds how many expensive reads run at once and how many may wait; beyond that a request is
 * refused at once (503 with Retry-After) instead of queueing work the database cannot finish
 * before the caller gives up.
 */
export class Bulkhead {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
    private readonly what: string,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrency) {
      this.active += 1;
    } else {
      if (this.waiting.length >= this.queueLimit) {
        throw new DependencyUnavailableError(`too many ${this.what} at once; retry later`, { concurrency: this.concurrency });
      }
      // the slot is handed over by the task that finishes (active stays the same)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
