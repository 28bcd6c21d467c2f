import type { FastifyInstance } from 'fastify';
import type { Db } from 'mongodb';
import { NotFoundError } from '@trackme/platform';

interface HistoryRow {
  _id: string;
  client_id: string;
  type: string;
  version: number;
  command_id: string;
  actor: unknown;
  at: Date;
  from?: string;
  to?: string;
  rollback?: boolean;
  changes?: Record<string, unknown>;
}

const MAX_ENTRIES = 1_000;

/** Internal API: a client's timeline from `client_history` (read-only; the clients service writes it). */
export async function registerHistoryRoutes(app: FastifyInstance, db: Db): Promise<void> {
  const history = db.collection<HistoryRow>('client_history');
  const clients = db.collection<{ _id: string; deleted?: boolean }>('clients');

  app.get<{ Params: { id: string } }>('/internal/clients/:id/history', async (request) => {
    const { id } = request.params;
    const rows = await history.find({ client_id: id }).sort({ at: 1, version: 1 }).limit(MAX_ENTRIES).toArray();
    if (rows.length === 0) {
      // a client created before history existed still has a (then empty) timeline
      const exists = await clients.countDocuments({ _id: id }, { limit: 1 });
      if (exists === 0) throw new NotFoundError(`client ${id} not found`);
    }
    return {
      data: rows.map(({ _id, client_id: _clientId, at, ...rest }) => ({ event_id: _id, at: at.toISOString(), ...rest })),
    };
  });
}
