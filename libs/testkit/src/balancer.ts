import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  /** where callers send their requests, e.g. http://127.0.0.1:41234 */
  url: string;
  /** the backends requests go to, in turn, when their /readyz answers 200 */
  setTargets(targets: string[]): void;
  /** requests that no ready backend could take, or whose backend failed mid-way (answered 502) */
  readonly failures: string[];
  close(): Promise<void>;
}

const CHECK_EVERY_MS = 100;
/** like a Kubernetes readiness probe (failureThreshold 2, timeoutSeconds 3): one slow answer on a busy machine does not drop a backend */
const FAILURES_TO_DROP = 2;
const CHECK_TIMEOUT_MS = 3_000;

/**
 * A round-robin HTTP balancer for tests, like a Kubernetes Service in front of pods: it sends each
 * request to the next backend whose /readyz answered 200 (checked every 100 ms; two failed checks
 * in a row drop it). A backend turning not-ready stops getting new requests; the ones it has keep
 * going. A refused connection is tried on the next backend, as proxies do: the request never arrived.
 */
export async function startBalancer(initial: string[]): Promise<Balancer> {
  let targets = [...initial];
  const ready = new Set<string>();
  const failedChecks = new Map<string, number>();
  const failures: string[] = [];
  const agent = new http.Agent({ keepAlive: true });
  let next = 0;

  const checkOne = async (target: string) => {
    const ok = await fetch(`${target}/readyz`, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) }).then((r) => r.ok, () => false);
    const failed = ok ? 0 : (failedChecks.get(target) ?? 0) + 1;
    failedChecks.set(target, failed);
    if (ok && targets.includes(target)) ready.add(target);
    else if (failed >= FAILURES_TO_DROP || !targets.includes(target)) ready.delete(target);
  };
  const check = () => Promise.all(targets.map(checkOne));
  // each backend on its own loop: a slow answer from one does not delay noticing another turn not-ready
  const watched = new Set<string>();
  let checking = true;
  const loops: Promise<void>[] = [];
  const watch = () => {
    for (const target of targets) {
      if (watched.has(target)) continue;
      watched.add(target);
      loops.push(
        (async () => {
          while (checking && targets.includes(target)) {
            await checkOne(target);
            await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
          }
        })(),
      );
    }
  };

  /** Sends to the next ready backend; a refused connection (the request never arrived) tries the next one. */
  const forward = (inbound: http.IncomingMessage, body: Buffer, outbound: http.ServerResponse, tried: Set<string>) => {
    const candidates = targets.filter((t) => ready.has(t) && !tried.has(t));
    if (candidates.length === 0) {
      failures.push(`${inbound.method} ${inbound.url}: no ready backend`);
      outbound.writeHead(502).end();
      return;
    }
    const chosen = candidates[next++ % candidates.length]!;
    const target = new URL(chosen);
    const forwarded = http.request(
      { host: target.hostname, port: target.port, method: inbound.method, path: inbound.url, headers: inbound.headers, agent },
      (answer) => {
        outbound.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outbound);
      },
    );
    forwarded.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' && !outbound.headersSent) {
        ready.delete(chosen);
        forward(inbound, body, outbound, tried.add(chosen));
        return;
      }
      failures.push(`${inbound.method} ${inbound.url} via ${target.origin}: ${error.message}`);
      if (!outbound.headersSent) outbound.writeHead(502);
      outbound.end();
    });
    forwarded.end(body);
  };

  const server = http.createServer((inbound, outbound) => {
    const chunks: Buffer[] = [];
    inbound.on('data', (chunk: Buffer) => chunks.push(chunk));
    inbound.on('end', () => forward(inbound, Buffer.concat(chunks), outbound, new Set()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await check();
  watch();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTargets(list) {
      targets = [...list];
      for (const target of ready) if (!targets.includes(target)) ready.delete(target);
      watch();
    },
    failures,
    async close() {
      checking = false;
      await Promise.all(loops);
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
