// The baselines' HTTP server: a bare fastify app on this machine, nothing of trackme in it.
//   node bench/lib/floor-server.mjs <port> [page.json]
// GET /healthz answers {"status":"ok"}; GET /page answers the page of clients read from page.json,
// built once and serialized on every request with plain JSON.stringify.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [port, pageFile] = process.argv.slice(2);
const page = pageFile ? JSON.parse(readFileSync(pageFile, 'utf8')) : { data: [] };
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/page', async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(page)));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.send?.('ready');
