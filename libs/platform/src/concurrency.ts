/**
 * Runs `fn` for every item with at most `limit` calls in flight (e.g. lookups by `_id`, which the
 * Mongo-wire floor cannot batch with `$in`). Rejects with the first error; calls already started
 * finish on their own.
 */
export async function forEachConcurrently<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const pending = [...items];
  const worker = async () => {
    for (let item = pending.shift(); item !== undefined; item = pending.shift()) await fn(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, pending.length) }, worker));
}

/**
 * At most `limit` holders at once; the others wait in arrival order. A slot is handed straight to
 * the next waiter, so none is taken twice.
 */
export class Turns {
  private holders = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** holders right now */
  get running(): number {
    return this.holders;
  }

  /** callers waiting for a turn */
  get queued(): number {
    return this.waiting.length;
  }

  /** true when a new caller would have to wait */
  get full(): boolean {
    return this.holders >= this.limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holders < this.limit) this.holders += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.holders -= 1;
    }
  }
}
