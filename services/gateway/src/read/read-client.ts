import { Pool } from 'undici';
import { DependencyUnavailableError } from '@trackme/platform';

/** An answer of the read service, passed on as received: its bodies are already in the public shape. */
export interface ReadAnswer {
  status: number;
  contentType: string;
  /** `X-Cache` of the answer (hit, miss, bypass), when the read service set it */
  cache: string | undefined;
  /** `Retry-After` of a 503 from the read service */
  retryAfter: string | undefined;
  body: Buffer;
}

const READ_TIMEOUT_MS = 5_000;

/** HTTP client of the read service's internal API (keep-alive pool). */
export class ReadClient {
  private readonly pool: Pool;

  constructor(baseUrl: string) {
    this.pool = new Pool(baseUrl, { connections: 32, headersTimeout: READ_TIMEOUT_MS, bodyTimeout: READ_TIMEOUT_MS });
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<ReadAnswer> {
    try {
      const response = await this.pool.request({ method: 'GET', path, headers });
      const { 'x-cache': cache, 'retry-after': retryAfter } = response.headers;
      return {
        status: response.statusCode,
        contentType: String(response.headers['content-type'] ?? 'application/json'),
        cache: typeof cache === 'string' ? cache : undefined,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
        body: Buffer.from(await response.body.arrayBuffer()),
      };
    } catch (error) {
      // the cause (an internal address) goes to the log, not to the caller
      throw new DependencyUnavailableError('the read service is unavailable; retry later', { cause: (error as Error).message });
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
