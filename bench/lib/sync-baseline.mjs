// The write benches' synchronous baseline: the older service's design, a route writing MongoDB
// directly (no Kafka, no outbox, no history, no idempotency), on a bare fastify app.
//   node bench/lib/sync-baseline.mjs <port> <mongo url> <database>
// POST /clients inserts the client into `baseline_clients` (unique index on the lower-cased email):
// 201 {data: client}, 409 on a taken email. PUT /clients/:id/stage sets the stage and the full
// representation in one findOneAndUpdate: 200 {data: client}, 404, 409. Nothing is validated beyond
// JSON parsing; the stored document has the fields trackme stores for a client (its `clients`
// collection), so both write documents of the same size.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { MongoClient } from 'mongodb';

const [port, mongoUrl, database] = process.argv.slice(2);
const mongo = await MongoClient.connect(mongoUrl);
const clients = mongo.db(database).collection('baseline_clients');
await clients.createIndex({ email_normalized: 1 }, { unique: true, name: 'email_normalized_unique' });

const normalize = (email) => String(email).normalize('NFC').trim().toLowerCase();
// the representation's fields as trackme stores them: optional ones left out are cleared
const fields = (body, now) => ({
  name: body.name,
  email: body.email,
  email_normalized: normalize(body.email),
  stage: body.stage,
  is_active: body.is_active ?? true,
  source: body.source ?? null,
  channel: body.channel ?? null,
  app: body.app ?? 'not_installed',
  last_login: body.last_login ? new Date(body.last_login) : null,
  last_updated: now,
  contracts: body.contracts ?? [],
});
const view = (doc) => ({
  id: doc._id,
  name: doc.name,
  email: doc.email,
  stage: doc.stage,
  is_active: doc.is_active,
  source: doc.source,
  channel: doc.channel,
  app: doc.app,
  last_login: doc.last_login ? doc.last_login.toISOString() : null,
  registration_date: doc.registration_date.toISOString(),
  last_updated: doc.last_updated.toISOString(),
  contracts: doc.contracts,
  version: doc.version,
});
const problem = (reply, status, code, title) => reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status, code });
const duplicate = (error) => error?.code === 11000;

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/clients', async (request, reply) => {
  const now = new Date();
  const body = request.body ?? {};
  const doc = { _id: randomUUID(), ...fields({ ...body, stage: body.stage ?? 'registration' }, now), registration_date: now, version: 1 };
  try {
    await clients.insertOne(doc);
  } catch (error) {
    if (duplicate(error)) return problem(reply, 409, 'email_taken', 'Email already taken');
    throw error;
  }
  return reply.code(201).send({ data: view(doc) });
});
app.put('/clients/:id/stage', async (request, reply) => {
  const body = request.body ?? {};
  let doc;
  try {
    doc = await clients.findOneAndUpdate({ _id: request.params.id }, { $set: fields(body, new Date()), $inc: { version: 1 } }, { returnDocument: 'after' });
  } catch (error) {
    if (duplicate(error)) return problem(reply, 409, 'email_taken', 'Email already taken');
    throw error;
  }
  if (!doc) return problem(reply, 404, 'not_found', 'Client not found');
  return { data: view(doc) };
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.send?.('ready');
process.on('SIGTERM', () => void app.close().then(() => mongo.close()).then(() => process.exit(0)));
