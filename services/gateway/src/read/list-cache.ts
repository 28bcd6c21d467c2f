import type { ServiceAnswer } from '../http/service-client.js';

interface Entry {
  answer: ServiceAnswer;
  until: number;
}

/**
 * The read service's cached list pages, kept a moment in the gateway (`LIST_CACHE_MS`), so a
 * repeated query costs no hop to `read`, and concurrent requests for one query share one fetch.
 *
 * Only pages `read` answered from its own cache (`X-Cache: hit`) are kept: never a page rendered
 * from Mongo while Redis is down, and never past the instant until which its highlights stay
 * true. A change therefore shows in lists up to `LIST_CACHE_MS` later than `read` shows it, well
 * inside the 1 s visibility promise; what was kept or being fetched when this gateway answered a
 * write is dropped at once, so its own writes wait for `read` alone once `read` has the event.
 */
export class ListCache {
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Promise<ServiceAnswer>>();
  /** changes on every write: what was fetched before it is not kept */
  private epoch = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly maxEntries = 1_000,
  ) {}

  async get(key: string, fetch: () => Promise<ServiceAnswer>): Promise<ServiceAnswer> {
    if (this.ttlMs <= 0) return fetch();
    const entry = this.entries.get(key);
    if (entry && this.clock() < entry.until) return entry.answer;
    const shared = this.flights.get(key);
    if (shared) return shared;
    const epoch = this.epoch;
    const flight = fetch()
      .then((answer) => {
        if (epoch === this.epoch) this.keep(key, answer);
        return answer;
      })
      .finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    this.flights.set(key, flight);
    return flight;
  }

  /** A client changed through this gateway: nothing kept or being fetched may be shown any more. */
  clear(): void {
    this.epoch += 1;
    this.entries.clear();
    this.flights.clear();
  }

  private keep(key: string, answer: ServiceAnswer): void {
    if (answer.status !== 200 || answer.headers['x-cache'] !== 'hit') {
      this.entries.delete(key);
      return;
    }
    const until = Math.min(this.clock() + this.ttlMs, answer.validUntil ?? Number.POSITIVE_INFINITY);
    this.entries.delete(key);
    this.entries.set(key, { answer, until });
    // the oldest go first (a Map iterates in insertion order)
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
