import { Counter, Histogram, type Registry } from 'prom-client';
import { LIST_QUERY_FIELDS, type Client, type ListClientsQuery } from '@trackme/contracts';
import { NotFoundError, type Logger } from '@trackme/platform';
import type { CachedPage, ReadCache } from '../cache/read-cache.js';
import type { ClientSource } from './client-source.js';
import { renderClient, type HighlightPolicy } from './highlights.js';

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/** A response body ready to send, and how the cache took part in it. */
export interface ReadAnswer {
  body: string;
  cache: CacheOutcome;
}

export interface ClientReadsDeps {
  source: ClientSource;
  cache: ReadCache;
  policy: HighlightPolicy;
  logger: Logger;
  registry: Registry;
  clock?: () => number;
}

type Resource = 'list' | 'client';

/**
 * Cache-aside over Mongo. Lists are cached as rendered bodies together with the instant until
 * which their highlights hold; single clients as data, rendered per request. When Redis fails the
 * answer comes from Mongo (counted, logged at most once per outage) and nothing is lost but speed.
 * Concurrent misses of the same list in the same generation share one Mongo query.
 */
export class ClientReads {
  private readonly source: ClientSource;
  private readonly cache: ReadCache;
  private readonly policy: HighlightPolicy;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly inflight = new Map<string, Promise<CachedPage>>();
  private readonly lookups: Counter<'resource' | 'result'>;
  private readonly errors: Counter<'operation'>;
  private readonly sourceDuration: Histogram<'source' | 'resource'>;
  private cacheFailing = false;

  constructor(deps: ClientReadsDeps) {
    this.source = deps.source;
    this.cache = deps.cache;
    this.policy = deps.policy;
    this.logger = deps.logger;
    this.clock = deps.clock ?? Date.now;
    this.lookups = new Counter({
      name: 'trackme_read_cache_lookups_total',
      help: 'Reads by resource and cache outcome (hit, miss, bypass)',
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
      for (const result of ['hit', 'miss', 'bypass'] as const) this.lookups.inc({ resource, result }, 0);
  }

  async list(query: ListClientsQuery, bypass: boolean): Promise<ReadAnswer> {
    if (bypass) return this.answered('list', 'bypass', (await this.renderList(query)).body);
    const key = queryKey(query, this.policy);
    const lookup = await this.fromCache('get_list', 'list', () => this.cache.getList(key));
    if (lookup?.page && this.clock() < lookup.page.validUntil) return this.answered('list', 'hit', lookup.page.body);

    const flightKey = `${lookup?.generation ?? '-'}:${key}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      flight = this.renderList(query).then(async (page) => {
        if (lookup) await this.fromCache('put_list', 'list', () => this.cache.putList(key, lookup.generation, page));
        return page;
      });
      this.inflight.set(flightKey, flight);
      void flight.finally(() => this.inflight.delete(flightKey)).catch(() => undefined);
    }
    return this.answered('list', 'miss', (await flight).body);
  }

  async get(id: string, bypass: boolean): Promise<ReadAnswer> {
    if (!bypass) {
      const cached = await this.fromCache('get_client', 'client', () => this.cache.getClient(id));
      if (cached) return this.answered('client', 'hit', this.renderOne(id, cached.client));
    }
    const started = performance.now();
    const state = await this.source.get(id);
    this.sourceDuration.observe({ source: 'mongo', resource: 'client' }, (performance.now() - started) / 1000);
    if (state && !bypass) {
      const client = state.kind === 'client' ? state.client : null;
      const version = state.kind === 'client' ? state.client.version : state.version;
      await this.fromCache('put_client', 'client', () => this.cache.putClient(id, version, client));
    }
    return this.answered('client', bypass ? 'bypass' : 'miss', this.renderOne(id, state?.kind === 'client' ? state.client : null));
  }

  private renderOne(id: string, client: Client | null): string {
    if (!client) throw new NotFoundError(`client ${id} not found`);
    return JSON.stringify({ data: renderClient(client, this.clock(), this.policy).view });
  }

  private async renderList(query: ListClientsQuery): Promise<CachedPage> {
    const now = this.clock();
    const started = performance.now();
    const result = await this.source.list(query, now);
    this.sourceDuration.observe({ source: 'mongo', resource: 'list' }, (performance.now() - started) / 1000);
    let validUntil = result.membershipValidUntil;
    const data = result.clients.map((client) => {
      const rendered = renderClient(client, now, this.policy);
      validUntil = Math.min(validUntil, rendered.validUntil);
      return rendered.view;
    });
    return { body: JSON.stringify({ data, meta: { total: result.total, limit: query.limit, offset: query.offset } }), validUntil };
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
