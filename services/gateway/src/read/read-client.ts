import { Pool } from 'undici';
import { DependencyUnavailableError } from '@trackme/platform';

export interface ReadAnswer {
  status: number;
  contentType: string;
  body: unknown;
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
      const contentType = String(response.headers['content-type'] ?? 'application/json');
      const body: unknown = contentType.includes('json') ? await response.body.json() : await response.body.text();
      return { status: response.statusCode, contentType, body };
    } catch (error) {
      // the cause (an internal address) goes to the log, not to the caller
      throw new DependencyUnavailableError('the read service is unavailable; retry later', { cause: (error as Error).message });
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
