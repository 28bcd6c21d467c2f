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
