import { BULK_MAX_CLIENTS, LIST_FILTER_FIELDS, type ListClientsFilter } from '@trackme/contracts';
import { DependencyUnavailableError, ValidationError } from '@trackme/platform';
import { queryStringOf } from '../http/service-client.js';
import type { ReadClient } from '../read/read-client.js';

/**
 * How long the read of a bulk job's set may take: one query over every client, which on a
 * Mongo-wire server without secondary indexes is a scan (about 3 s per 10,000 clients here).
 */
const CLIENT_IDS_TIMEOUT_MS = 60_000;

/**
 * The ids of every client matching a list filter, in list order, read once from the database
 * through the read service (no cache): the set a bulk job works on, fixed before its first item runs.
 */
export async function clientsMatching(read: ReadClient, filter: ListClientsFilter): Promise<string[]> {
  const query = new URLSearchParams(queryStringOf(filter, LIST_FILTER_FIELDS));
  query.set('max', String(BULK_MAX_CLIENTS + 1));
  const answer = await read.get(`/internal/client-ids?${query}`, {}, CLIENT_IDS_TIMEOUT_MS);
  if (answer.status !== 200) throw new DependencyUnavailableError('the read service could not list the clients; retry later');
  const { data: ids } = JSON.parse(answer.body.toString()) as { data: string[] };
  if (ids.length > BULK_MAX_CLIENTS) {
    throw new ValidationError(`the filter matches more than ${BULK_MAX_CLIENTS} clients; a bulk job takes at most ${BULK_MAX_CLIENTS}`, [
      { field: 'filter', message: `matches more than ${BULK_MAX_CLIENTS} clients` },
    ]);
  }
  return ids;
}
