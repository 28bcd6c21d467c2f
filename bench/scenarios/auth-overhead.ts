/**
 * What authentication and rate limiting add to a request: requests/s and latency of a cached
 * `GET /clients?limit=50` through two extra gateways over the same system, one verifying the bearer
 * token and counting both rate limits in Redis (limits set too high to be reached), the other with
 * `AUTH_MODE=disabled` and both limits off. Rounds alternate between the two.
 */
import { spawnService, waitUntilReady, type ServiceProcess } from '@trackme/testkit';
import { alternate, load } from '../lib/load.js';
import { fmt, type Scenario } from '../lib/scenario.js';
import { seedClients } from '../lib/seed.js';
import { startSystem } from '../lib/system.js';

export const authOverhead: Scenario = {
  name: 'auth-overhead',
  title: 'Auth and rate limits: a cached list through a gateway with them vs one without',
  async run(context) {
    const rounds = context.quick ? 1 : 5;
    const seconds = context.quick ? 3 : 10;
    const connections = 8;
    const system = await startSystem(context.env);
    try {
      await seedClients(system.api, context.authorization, 10_000);
      const common = { ...system.env, READ_URL: system.of('read')[0]!.url, METRICS_URL: system.of('metrics')[0]!.url };
      // the largest allowed: per minute, far above what the rounds send
      const NEVER_REACHED = '1000000';
      const gateways: Record<'checked' | 'unchecked', ServiceProcess> = {
        checked: await spawnService('gateway', { ...common, RATE_LIMIT_PER_CALLER: NEVER_REACHED, RATE_LIMIT_PER_ADDRESS: NEVER_REACHED, RATE_LIMIT_NO_CACHE_PER_CALLER: '0' }),
        unchecked: await spawnService('gateway', { ...common, AUTH_MODE: 'disabled', RATE_LIMIT_PER_CALLER: '0', RATE_LIMIT_PER_ADDRESS: '0', RATE_LIMIT_NO_CACHE_PER_CALLER: '0' }),
      };
      try {
        await Promise.all(Object.values(gateways).map((g) => waitUntilReady(g)));
        const headers = { authorization: context.authorization };
        const urlOf = (g: ServiceProcess) => `${g.url}/api/v1/clients?limit=50`;
        // warm-up: the page into the cache, the gateways' code paths compiled
        for (const g of Object.values(gateways)) await load(urlOf(g), { connections, seconds: 3, headers });
        const r = await alternate(rounds, {
          checked: () => load(urlOf(gateways.checked), { connections, seconds, headers }),
          unchecked: () => load(urlOf(gateways.unchecked), { connections, seconds, headers }),
        });
        const { checked, unchecked } = { checked: r.checked.median, unchecked: r.unchecked.median };
        const errors = checked.non2xx + checked.errors + unchecked.non2xx + unchecked.errors;
        if (errors) throw new Error(`${errors} requests failed`);
        const row = (label: string, x: typeof checked) => `| ${label} | ${fmt.rps(x.rps)} | ${x.mean.toFixed(2)} ms | ${x.p50} ms | ${x.p99} ms |`;
        return {
          figures: { rounds, seconds, connections, ...r, added: { meanMs: checked.mean - unchecked.mean, p50Ms: checked.p50 - unchecked.p50, throughput: checked.rps / unchecked.rps } },
          goals: [],
          markdown: [
            `cached \`GET /clients?limit=50\`, ${connections} connections, median of ${rounds} alternating rounds of ${seconds} s`,
            '',
            '| gateway | requests/s | mean | p50 | p99 |',
            '|---|---:|---:|---:|---:|',
            row('`AUTH_MODE=disabled`, rate limits off (baseline)', unchecked),
            row('JWT verified + both rate limits counted in Redis', checked),
            '',
            `auth + rate limits add ${(checked.mean - unchecked.mean).toFixed(2)} ms to the mean and ${checked.p50 - unchecked.p50} ms to the p50; ` +
              `throughput ${fmt.ratio(checked.rps / unchecked.rps)} of without`,
          ].join('\n'),
        };
      } finally {
        await Promise.all(Object.values(gateways).map((g) => g.stop()));
      }
    } finally {
      await system.stop();
    }
  },
};
