import { DependencyUnavailableError, Turns } from '@trackme/platform';

/**
 * Bounds how many expensive reads run at once and how many may wait; beyond that a request is
 * refused at once (503 with Retry-After) instead of queueing work the database cannot finish
 * before the caller gives up.
 */
export class Bulkhead {
  private readonly turns: Turns;

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
    private readonly what: string,
  ) {
    this.turns = new Turns(concurrency);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.turns.full && this.turns.queued >= this.queueLimit) {
      throw new DependencyUnavailableError(`too many ${this.what} at once; retry later`, { concurrency: this.concurrency });
    }
    return this.turns.run(task);
  }

  get inUse(): number {
    return this.turns.running;
  }

  get queued(): number {
    return this.turns.queued;
  }
}
