/**
 * What a login costs: `POST /auth/login` with the right password, one connection at a time
 * (latency of a lone login) and four at once (throughput), with the gateway's CPU per login.
 * Baseline, same run: one argon2id verification at the same cost in this process, the floor of a
 * login. Goal: under 100 ms of CPU per login.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { spawnService, waitUntilReady } from '@trackme/testkit';
import { hashPassword, passwordMatches } from '../../services/gateway/src/users/password-hasher.js';
import { cpuMeter } from '../lib/cpu.js';
import { alternate, load, type LoadResult } from '../lib/load.js';
import { fmt, type Scenario } from '../lib/scenario.js';

/** CPU milliseconds of one argon2id verification, measured `count` times in a row. */
async function verifyCost(count: number): Promise<{ cpuMs: number; wallMs: number }> {
  const stored = await hashPassword('violet-harbour-lantern');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1) await passwordMatches(stored, 'violet-harbour-lantern');
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / count, wallMs: (performance.now() - t0) / count };
}

export const login: Scenario = {
  name: 'login',
  title: 'Login: POST /auth/login latency and CPU with argon2id vs one argon2id verification',
  async run(context) {
    const rounds = context.quick ? 1 : 3;
    const seconds = context.quick ? 4 : 10;
    const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const gateway = await spawnService('gateway', { ...context.env, AUTH_SIGNING_KEY: signingKey });
    try {
      await waitUntilReady(gateway, 120_000);
      const account = { email: `bench-${randomUUID()}@example.com`, password: `violet-harbour-${randomUUID()}` };
      const created = await fetch(`${gateway.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: context.authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Bench User', ...account, role: 'manager' }),
      });
      if (created.status !== 201) throw new Error(`the bench user was not created: ${created.status} ${await created.text()}`);
      const url = `${gateway.url}/api/v1/auth/login`;
      const options = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: JSON.stringify(account), seconds };
      await load(url, { ...options, connections: 2, seconds: 3 });

      const cpu: Record<'one' | 'four', number[]> = { one: [], four: [] };
      const measured = (name: 'one' | 'four', connections: number) => async (): Promise<LoadResult> => {
        const stop = cpuMeter([gateway], context.env);
        const result = await load(url, { ...options, connections });
        const gatewayPercent = stop().processes.find((p) => p.name === 'gateway')!.percent;
        cpu[name].push((gatewayPercent / 100 / result.rps) * 1000);
        return result;
      };
      const r = await alternate(rounds, { one: measured('one', 1), four: measured('four', 4) });
      const floor = await verifyCost(context.quick ? 10 : 40);
      const { one, four } = { one: r.one.median, four: r.four.median };
      const errors = one.non2xx + one.errors + four.non2xx + four.errors;
      if (errors) throw new Error(`${errors} logins failed`);
      const cpuPerLogin = [...cpu.one, ...cpu.four].sort((a, b) => a - b)[Math.floor((cpu.one.length + cpu.four.length) / 2)]!;
      const row = (label: string, x: LoadResult, cpuMs: number[]) =>
        `| ${label} | ${fmt.rps(x.rps)} | ${x.p50} ms | ${x.p99} ms | ${fmt.ms(cpuMs.sort((a, b) => a - b)[Math.floor(cpuMs.length / 2)]!)} |`;
      return {
        figures: { rounds, seconds, ...r, cpuMsPerLogin: cpu, floor },
        goals: [{ goal: 'CPU per login under 100 ms (argon2id, 19 MiB, 2 passes)', measured: fmt.ms(cpuPerLogin), met: cpuPerLogin < 100 }],
        markdown: [
          `\`POST /auth/login\`, right password, argon2id m=19456 KiB, t=2, p=1; median of ${rounds} alternating rounds of ${seconds} s`,
          '',
          '| logins | logins/s | p50 | p99 | gateway CPU per login |',
          '|---|---:|---:|---:|---:|',
          row('one connection', one, cpu.one),
          row('4 connections', four, cpu.four),
          `| baseline: one argon2id verification in-process | ${fmt.rps(1000 / floor.wallMs)} | ${fmt.ms(floor.wallMs)} | | ${fmt.ms(floor.cpuMs)} |`,
          '',
          `a login costs ${fmt.ratio(cpuPerLogin / floor.cpuMs)} the CPU of its argon2id verification (the rest: the user lookup, the refresh token insert, signing the access token, HTTP)`,
        ].join('\n'),
      };
    } finally {
      await gateway.stop();
    }
  },
};
