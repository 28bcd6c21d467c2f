import type { FastifyInstance } from 'fastify';
import type { Db } from 'mongodb';
import { NotFoundError } from '@trackme/platform';

interface HistoryEntry {
  event_id: string;
  type: string;
  version: number;
  at: Date;
  [field: string]: unknown;
}

/** Internal API: a client's timeline (read-only; the clients service writes it, one document per client). */
export async function registerHistoryRoutes(app: FastifyInstance, db: Db): Promise<void> {
  const history = db.collection<{ _id: string; entries: HistoryEntry[] }>('client_history');
  const clients = db.collection<{ _id: string }>('clients');

  app.get<{ Params: { id: string } }>('/internal/clients/:id/history', async (request) => {
    const { id } = request.params;
    const timeline = await history.findOne({ _id: id });
    if (!timeline) {
      // a client imported before timelines existed still has an (empty) one
      const exists = await clients.countDocuments({ _id: id }, { limit: 1 });
      if (exists === 0) throw new NotFoundError(`client ${id} not found`);
    }
    const entries = [...(timeline?.entries ?? [])].sort((a, b) => a.version - b.version || a.at.getTime() - b.at.getTime());
    return { data: entries.map(({ at, ...rest }) => ({ ...rest, at: at.toISOString() })) };
  });
}
