import { LIST_LIMIT_MAX, LIST_QUERY_FIELDS, type ClientView, type ListClientsQuery } from '@trackme/contracts';
import { DependencyUnavailableError, ValidationError } from '@trackme/platform';
import { queryStringOf } from '../http/service-client.js';
import type { ReadClient } from '../read/read-client.js';

/** The most clients one bulk job may touch; a wider filter is refused, to be narrowed. */
export const BULK_MAX_CLIENTS = 100_000;

export type ListFilter = Omit<ListClientsQuery, 'limit' | 'offset'>;

/**
 * Every client matching a list filter, read once from the database through the read service
 * (no cache): the set a bulk job works on, fixed before its first item runs.
 */
export async function clientsMatching(read: ReadClient, filter: ListFilter): Promise<ClientView[]> {
  const found = new Map<string, ClientView>();
  for (let offset = 0; ; offset += LIST_LIMIT_MAX) {
    const query = queryStringOf({ ...filter, limit: LIST_LIMIT_MAX, offset } as ListClientsQuery, LIST_QUERY_FIELDS);
    const answer = await read.get(`/internal/clients?${query}`, { 'cache-control': 'no-cache' });
    if (answer.status !== 200) throw new DependencyUnavailableError('the read service could not list the clients; retry later');
    const page = JSON.parse(answer.body.toString()) as { data: ClientView[]; meta: { total: number } };
    if (page.meta.total > BULK_MAX_CLIENTS) {
      throw new ValidationError(`the filter matches ${page.meta.total} clients; a bulk job takes at most ${BULK_MAX_CLIENTS}`, [
        { field: 'filter', message: `matches more than ${BULK_MAX_CLIENTS} clients` },
      ]);
    }
    // a client changed while paging may show twice; it is one item
    for (const client of page.data) found.set(client.id, client);
    if (page.data.length < LIST_LIMIT_MAX) break;
  }
  return [...found.values()];
}
