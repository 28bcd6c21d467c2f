import { Counter, Histogram, type Registry } from 'prom-client';
import { LIST_QUERY_FIELDS, type Client, type ListClientsQuery } from '@trackme/contracts';
import { NotFoundError, type Logger } from '@trackme/platform';
import type { CachedPage, ReadCache } from '../cache/read-cache.js';
import type { ClientSource, ListResult } from './client-source.js';
import { selectRows, type FilterRow } from './filter-row.js';
import { renderClient, type HighlightPolicy } from './highlights.js';

export type CacheOutcome = 'hit' | 'stale' | 'miss' | 'bypass';

/** A response body ready to send, and how the cache took part in it. */
export interface ReadAnswer {
  body: string;
  cache: CacheOutcome;
  /** a cached list page: the instant until which its highlights and membership stay true (epoch ms) */
  validUntil?: number;
}

export interface ClientReadsDeps {
  source: ClientSource;
  cache: ReadCache;
  policy: HighlightPolicy;
  logger: Logger;
  registry: Registry;
  clock?: () => number;
  /** how old a page rendered before the latest changes may be and still be served while a new one renders (0: never) */
  staleMs?: number;
}

type Resource = 'list' | 'client';

/**
 * Lists are cached as rendered pages together with the instant until which their highlights hold;
 * a missing page is computed from the client model in Redis (every client's filter row, kept
 * current by change events) or, while that is not loaded, from Mongo. Single clients come from
 * the model, or from Mongo on a miss, and are rendered per request. When Redis fails the answer
 * comes from Mongo (counted, logged once per outage): nothing is lost but speed. Concurrent misses
 * of the same page in the same generation share one computation.
 *
 * Every change invalidates every page, so under a stream of writes nearly every request would
 * compute its page again. A page rendered before the latest changes is therefore still served
 * (`stale`) while it is younger than `staleMs`, and one computation of the current page runs
 * meanwhile: a change shows in lists at most `staleMs` later, and a page is computed at most once
 * per `staleMs` per query however many writes and reads arrive.
 */
export class ClientReads {
  private readonly source: ClientSource;
  private readonly cache: ReadCache;
  private readonly policy: HighlightPolicy;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly staleMs: number;
  private readonly inflight = new Map<string, Promise<CachedPage>>();
  private readonly lookups: Counter<'resource' | 'result'>;
  private readonly errors: Counter<'operation'>;
  private readonly sourceDuration: Histogram<'source' | 'resource'>;
  private cacheFailing = false;
  private rows: { generation: string; rows: FilterRow[] } | undefined;

  constructor(deps: ClientReadsDeps) {
    this.source = deps.source;
    this.cache = deps.cache;
    this.policy = deps.policy;
    this.logger = deps.logger;
    this.clock = deps.clock ?? Date.now;
    this.staleMs = deps.staleMs ?? 0;
    this.lookups = new Counter({
      name: 'trackme_read_cache_lookups_total',
      help: 'Reads by resource and cache outcome (hit, stale, miss, bypass)',
      labelNames: ['resource', 'result'],
      registers: [deps.registry],
    });
    this.errors = new Counter({
      name: 'trackme_read_cache_errors_total',
      help: 'Cache operations that failed (the read was answered from Mongo)',
      labelNames: ['operation'],
      registers: [deps.registry],
    });
    this.sourceDuration = new Histogram({
      name: 'trackme_read_source_duration_seconds',
      help: 'Time spent reading from the cache or from Mongo',
      labelNames: ['source', 'resource'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [deps.registry],
    });
    for (const resource of ['list', 'client'] as const)
      for (const result of ['hit', 'stale', 'miss', 'bypass'] as const) this.lookups.inc({ resource, result }, 0);
  }

  async list(query: ListClientsQuery, bypass: boolean): Promise<ReadAnswer> {
    if (bypass) return this.answered('list', 'bypass', (await this.renderList(query, undefined)).body);
    const key = queryKey(query, this.policy);
    const lookup = await this.fromCache('get_list', 'list', () => this.cache.getList(key));
    if (lookup?.page && this.clock() < lookup.page.validUntil) return { ...this.answered('list', 'hit', lookup.page.body), validUntil: lookup.page.validUntil };

    const flightKey = `${lookup?.generation ?? '-'}:${key}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      const renderedAt = this.clock();
      flight = this.renderList(query, lookup?.generation).then(async (page) => {
        if (lookup) await this.fromCache('put_list', 'list', () => this.cache.putList(key, lookup.generation, page, renderedAt));
        return page;
      });
      this.inflight.set(flightKey, flight);
      void flight.finally(() => this.inflight.delete(flightKey)).catch(() => undefined);
    }
    const previous = lookup?.previous;
    const now = this.clock();
    // the current page is being computed (by this request or an earlier one); a young enough older one answers meanwhile
    if (previous && now < previous.validUntil && now - previous.renderedAt < this.staleMs) {
      void flight.catch((error: unknown) => this.logger.warn({ err: error }, 'computing a list page in the background failed'));
      return this.answered('list', 'stale', previous.body);
    }
    return this.answered('list', 'miss', (await flight).body);
  }

  async get(id: string, bypass: boolean): Promise<ReadAnswer> {
    if (!bypass) {
      const known = await this.fromCache('get_client', 'client', () => this.cache.get(id));
      if (known?.kind === 'client') return this.answered('client', 'hit', this.renderOne(id, known.client));
      if (known?.kind === 'deleted') return this.answered('client', 'hit', this.renderOne(id, null));
    }
    const started = performance.now();
    const state = await this.source.get(id);
    this.sourceDuration.observe({ source: 'mongo', resource: 'client' }, (performance.now() - started) / 1000);
    if (state && !bypass) await this.fromCache('put_client', 'client', () => this.cache.apply(state));
    return this.answered('client', bypass ? 'bypass' : 'miss', this.renderOne(id, state?.client ?? null));
  }

  private renderOne(id: string, client: Client | null): string {
    if (!client) throw new NotFoundError(`client ${id} not found`);
    return JSON.stringify({ data: renderClient(client, this.clock(), this.policy).view });
  }

  /** A page computed from the client model in Redis when it is loaded, otherwise from Mongo. */
  private async renderList(query: ListClientsQuery, generation: string | undefined): Promise<CachedPage> {
    const now = this.clock();
    const result = (generation === undefined ? null : await this.fromModel(query, now, generation)) ?? (await this.fromMongo(query, now));
    let validUntil = result.membershipValidUntil;
    const data = result.clients.map((client) => {
      const rendered = renderClient(client, now, this.policy);
      validUntil = Math.min(validUntil, rendered.validUntil);
      return rendered.view;
    });
    return { body: JSON.stringify({ data, meta: { total: result.total, limit: query.limit, offset: query.offset } }), validUntil };
  }

  private async fromModel(query: ListClientsQuery, now: number, generation: string): Promise<ListResult | null> {
    const rows = await this.rowsOf(generation);
    if (!rows) return null;
    const selection = selectRows(rows, query, now, this.policy);
    const clients = await this.fromCache('model_clients', 'list', () => this.cache.clients(selection.page.map((row) => row.id)));
    if (!clients) return null;
    // a client deleted between the two reads is left out; the change invalidated this page anyway
    return { clients: clients.filter((client) => client !== null), total: selection.total, membershipValidUntil: selection.membershipValidUntil };
  }

  /** Drops the rows kept in this process (Redis may come back without the data they came from). */
  forgetRows(): void {
    this.rows = undefined;
  }

  /**
   * The model's rows as of a generation. Every change increments the generation, so rows read in
   * one generation serve every page missed in it (read at most once per change, not per page).
   */
  private async rowsOf(generation: string): Promise<FilterRow[] | null> {
    if (this.rows?.generation === generation) return this.rows.rows;
    const rows = await this.fromCache('model_rows', 'list', () => this.cache.rows());
    // rows read after a newer change are newer still; keeping them under the older generation
    // would only make them be read again
    if (rows) this.rows = { generation, rows };
    return rows;
  }

  private async fromMongo(query: ListClientsQuery, now: number): Promise<ListResult> {
    const started = performance.now();
    const result = await this.source.list(query, now);
    this.sourceDuration.observe({ source: 'mongo', resource: 'list' }, (performance.now() - started) / 1000);
    return result;
  }

  private answered(resource: Resource, result: CacheOutcome, body: string): ReadAnswer {
    this.lookups.inc({ resource, result });
    return { body, cache: result };
  }

  /** Runs a cache operation; a failure is counted and turns into "no cache" instead of an error. */
  private async fromCache<T>(operation: string, resource: Resource, run: () => Promise<T>): Promise<T | null> {
    const started = performance.now();
    try {
      const value = await run();
      this.sourceDuration.observe({ source: 'cache', resource }, (performance.now() - started) / 1000);
      if (this.cacheFailing) {
        this.cacheFailing = false;
        this.logger.info('cache is answering again');
      }
      return value;
    } catch (error) {
      this.errors.inc({ operation });
      if (!this.cacheFailing) {
        this.cacheFailing = true;
        this.logger.warn({ err: error, operation }, 'cache unavailable; answering from Mongo');
      }
      return null;
    }
  }
}

/** The cache identity of a list query: every filter in a fixed order, plus the highlight policy. */
export function queryKey(query: ListClientsQuery, policy: HighlightPolicy): string {
  return JSON.stringify([policy.lastLoginDays, ...LIST_QUERY_FIELDS.map((field) => query[field] ?? null)]);
}
