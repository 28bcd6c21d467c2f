import { ServiceClient } from '../http/service-client.js';

/** HTTP client of the read service's internal API (`/internal/clients…`). */
export class ReadClient extends ServiceClient {
  constructor(baseUrl: string, token: string) {
    super('read', baseUrl, token);
  }
}
