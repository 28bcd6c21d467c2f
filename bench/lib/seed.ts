import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';

/** A client as the benches create it: varied sources, channels and highlights, like a real list. */
export const newClient = (i: number) => ({
  name: `Bench Client ${i}`,
  email: `bench-${randomUUID()}@example.com`,
  stage: 'registration',
  source: ['website', 'mobile', 'partner'][i % 3],
  channel: ['organic', 'ads'][i % 2],
  app: i % 4 === 0 ? 'not_installed' : 'installed',
  last_login: new Date(Date.now() - (i % 60) * 86_400_000).toISOString(),
  contracts: [{ id: 'c1', autopayment: i % 5 === 0 ? 'disabled' : 'enabled' }],
});

/** A small JSON client over one pool, for setting up and probing (the load itself comes from autocannon). */
export function apiClient(api: string, authorization: string) {
  const base = new URL(api);
  const prefix = base.pathname.replace(/\/$/, '');
  const pool = new Pool(base.origin, { connections: 64 });
  return {
    async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const response = await pool.request({
        method: method as 'GET',
        path: `${prefix}${path}`,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), authorization, ...headers },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, body: text ? JSON.parse(text) : undefined };
    },
    close: () => pool.close(),
  };
}

/** The number of active clients, once the read service answers (it may still be loading its cache). */
async function countClients(client: ReturnType<typeof apiClient>): Promise<number> {
  const until = Date.now() + 60_000;
  for (;;) {
    const answer = await client.request('GET', '/clients?limit=1');
    if (answer.status === 200) return answer.body.meta.total as number;
    if (Date.now() > until) throw new Error(`cannot count the clients: ${answer.status} ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Tops the namespace up to `wanted` active clients through the API (32 at a time); returns how many existed and were created. */
export async function seedClients(api: string, authorization: string, wanted: number): Promise<{ existing: number; created: number; seconds: number }> {
  const client = apiClient(api, authorization);
  try {
    const existing = await countClients(client);
    let next = existing;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < wanted) {
          const i = next++;
          const answer = await client.request('POST', '/clients', newClient(i));
          // 202: the write outlasted the gateway's wait and is still applied
          if (answer.status !== 201 && answer.status !== 202) throw new Error(`seeding failed: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }),
    );
    return { existing, created: Math.max(0, wanted - existing), seconds: (performance.now() - t0) / 1000 };
  } finally {
    await client.close();
  }
}
