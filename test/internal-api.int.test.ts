import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalHeaders, isolatedEnv, runInProcess, type InProcessService } from '@trackme/testkit';
import { composeMetrics } from '../services/metrics/src/compose.js';
import { MetricsConfigSchema } from '../services/metrics/src/config.js';
import { composeRead } from '../services/read/src/compose.js';
import { ReadConfigSchema } from '../services/read/src/config.js';

/**
 * The internal APIs of read and metrics answer only the gateway's service token, whatever the
 * spelling of the URL: the router decodes `%69`, merges nothing and ignores nothing that a
 * raw-prefix check would see differently. Requests go over a real socket, byte for byte.
 */

const services: Record<string, InProcessService<object>> = {};

beforeAll(async () => {
  const env = await isolatedEnv();
  services['read'] = (await runInProcess('read', ReadConfigSchema, composeRead, { ...env })) as InProcessService<object>;
  services['metrics'] = (await runInProcess('metrics', MetricsConfigSchema, composeMetrics, { ...env })) as InProcessService<object>;
}, 90_000);

afterAll(async () => {
  for (const service of Object.values(services)) await service.stop();
});

/** Sends `target` as the request line's target, unchanged, and returns the status and body. */
async function send(service: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { port } = services[service]!.app.server.address() as AddressInfo;
  const lines = [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
  if (!status) throw new Error(`no HTTP answer to ${target}: ${answer.slice(0, 200)}`);
  return { status: Number(status[1]), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) };
}

async function statusOf(service: string, target: string, headers: Record<string, string> = {}): Promise<number> {
  return (await send(service, target, headers)).status;
}

/** Every internal route of each service, with a path that reaches it. */
const ROUTES: Record<string, string[]> = {
  read: ['/internal/clients', '/internal/clients/c-none', '/internal/clients/c-none/history'],
  metrics: ['/internal/metrics', '/internal/metrics/jobs/j-none'],
};

/** Spellings of an internal path that a router may take for it while a raw prefix check does not. */
function spellings(path: string): string[] {
  const rest = path.slice('/internal'.length);
  return [
    `/%69nternal${rest}`,
    `/%69%6E%74%65%72%6E%61%6C${rest}`,
    `/%2569nternal${rest}`,
    `/internal${rest.replace('/', '%2F')}`,
    `/internal${rest.replaceAll('/', '%2f')}`,
    `//internal${rest}`,
    `/./internal${rest}`,
    `/x/../internal${rest}`,
    `http://127.0.0.1/internal${rest}`,
    `http://127.0.0.1/%69nternal${rest}`,
    `/INTERNAL${rest}`,
    `/Internal${rest}`,
    `/internal${rest}.`,
    `/internal${rest};`,
    `/internal${rest};x=1`,
    `/internal${rest}/`,
    `/internal${rest}?limit=1`,
    `/internal${rest}#frag`,
    `${path}%00`,
  ];
}

describe.each(Object.keys(ROUTES))('%s internal API', (service) => {
  it('every internal route answers its service token', async () => {
    for (const path of ROUTES[service]!) {
      // 404 is a known route's own answer for an id that does not exist
      expect([200, 404], path).toContain(await statusOf(service, path, internalHeaders()));
    }
  });

  it('no spelling of an internal URL reaches a handler without the token', async () => {
    const answers: string[] = [];
    for (const path of ROUTES[service]!) {
      for (const target of [path, ...spellings(path)]) {
        const { status, body } = await send(service, target);
        // 401: the route matched and refused; 400 or 404 route_not_found: nothing matched.
        // Anything else (a 200, a handler's own 404 or 400) means a handler ran.
        const refused = status === 401 || (status === 404 && body.includes('"route_not_found"')) || (status === 400 && !body.includes('"validation_failed"'));
        if (!refused) answers.push(`${target} ${status} ${body.slice(0, 120)}`);
      }
    }
    expect(answers).toEqual([]);
  });

  it('the canonical path without a token is 401 with the internal realm', async () => {
    for (const path of ROUTES[service]!) expect(await statusOf(service, path), path).toBe(401);
  });
});
