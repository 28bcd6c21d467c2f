import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, uniqueId, type InProcessService } from '@trackme/testkit';
import type { GatewayConfig } from '../../src/config.js';

export interface SessionBody {
  data: { token: string; token_type: string; expires_in: number; refresh_token: string; user: { id: string; name: string; email: string; role: string } };
}

/** A fresh IPv4 address per test, so the per-address sign-in counters of parallel tests never meet. */
export const freshAddress = (): string => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;

export const freshEmail = (who = 'user'): string => `${uniqueId(who)}@example.com`.toLowerCase();

/** A password the policy takes. */
export const goodPassword = (): string => `Umbrella-${uniqueId('pw')}-Quartz`;

/** `npm run users -- create …` with the password on stdin, as an operator runs it. */
export async function createUserWithCli(mongoUrl: string, args: string[], password: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['--conditions=@trackme/source', 'scripts/users.ts', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', MONGO_URL: mongoUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(`${password}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}

export function gatewayCalls(gateway: InProcessService<GatewayConfig>) {
  const post = (url: string, payload: object, options: { token?: string; address?: string } = {}) =>
    gateway.app.inject({
      method: 'POST',
      url: `/api/v1${url}`,
      payload,
      remoteAddress: options.address ?? freshAddress(),
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    });
  const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, token: string, payload?: object) =>
    gateway.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  const login = async (email: string, password: string, address?: string) => post('/auth/login', { email, password }, address ? { address } : {});
  const session = async (email: string, password: string): Promise<SessionBody['data']> => {
    const answer = await login(email, password);
    if (answer.statusCode !== 200) throw new Error(`login of ${email}: ${answer.statusCode} ${answer.body}`);
    return answer.json<SessionBody>().data;
  };
  return { post, call, login, session };
}
