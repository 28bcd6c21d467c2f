import type { FastifyReply } from 'fastify';
import { Pool } from 'undici';
import { DependencyUnavailableError, VALID_UNTIL_HEADER } from '@trackme/platform';

/** An answer of an internal service, passed on as received: its bodies are already in the public shape. */
export interface ServiceAnswer {
  status: number;
  contentType: string;
  /** the headers that travel on to the caller (RELAYED_HEADERS), as the service set them */
  headers: Record<string, string>;
  body: Buffer;
  /** the read service's `X-Valid-Until` of a cached list page (not passed on) */
  validUntil?: number;
}

/** `X-Cache` (hit, miss, bypass) of the read service, and `Retry-After` of a 503. */
const RELAYED_HEADERS = ['x-cache', 'retry-after'] as const;

const SERVICE_TIMEOUT_MS = 5_000;

/** HTTP client of an internal service's API (keep-alive pool); the gateway relays its answers. */
export class ServiceClient {
  private readonly pool: Pool;

  private readonly authorization: string;

  constructor(
    private readonly service: string,
    baseUrl: string,
    /** the service token its internal API requires (INTERNAL_TOKEN) */
    token: string,
  ) {
    this.authorization = `Bearer ${token}`;
    this.pool = new Pool(baseUrl, { connections: 32, headersTimeout: SERVICE_TIMEOUT_MS, bodyTimeout: SERVICE_TIMEOUT_MS });
  }

  /** `timeoutMs`: how long to wait for the answer, for a read known to take longer than an interactive one. */
  async get(path: string, headers: Record<string, string> = {}, timeoutMs = SERVICE_TIMEOUT_MS): Promise<ServiceAnswer> {
    try {
      const response = await this.pool.request({ method: 'GET', path, headers: { ...headers, authorization: this.authorization }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      const relayed: Record<string, string> = {};
      for (const name of RELAYED_HEADERS) {
        const value = response.headers[name];
        if (typeof value === 'string') relayed[name] = value;
      }
      const validUntil = Number(response.headers[VALID_UNTIL_HEADER]);
      return {
        status: response.statusCode,
        contentType: String(response.headers['content-type'] ?? 'application/json'),
        headers: relayed,
        body: Buffer.from(await response.body.arrayBuffer()),
        ...(Number.isFinite(validUntil) ? { validUntil } : {}),
      };
    } catch (error) {
      // the cause (an internal address) goes to the log, not to the caller
      throw new DependencyUnavailableError(`the ${this.service} service is unavailable; retry later`, { cause: (error as Error).message });
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Sends an internal service's answer as received (body bytes included). */
export function relay(reply: FastifyReply, answer: ServiceAnswer): FastifyReply {
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
  return reply.code(answer.status).type(answer.contentType).send(answer.body);
}

/**
 * A validated query as an internal service's query string: the given values (defaults filled in
 * by validation) in the order of `fields`, so equal queries give equal strings (one cache entry).
 */
export function queryStringOf<Q extends object>(query: Q, fields: readonly (keyof Q)[]): string {
  const params = new URLSearchParams();
  for (const field of fields) {
    const value = query[field];
    if (value !== undefined) params.append(String(field), String(value));
  }
  return params.toString();
}
