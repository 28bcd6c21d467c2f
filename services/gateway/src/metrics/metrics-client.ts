import { ServiceClient } from '../http/service-client.js';

/** HTTP client of the metrics service's internal API (`/internal/metrics…`). */
export class MetricsClient extends ServiceClient {
  constructor(baseUrl: string, token: string) {
    super('metrics', baseUrl, token);
  }
}
