// Jaeger v2, the local trace store: built from the Go module proxy (no Debian package ships it), once
// per user, into ~/.cache/trackme/jaeger-<version>/jaeger. The module's build carries no UI assets:
// the query API is complete, the UI at / is Jaeger's placeholder page.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const JAEGER_VERSION = 'v1.75.0';
const MODULE = 'github.com/jaegertracing/jaeger';
const CACHE_DIR = path.join(os.homedir(), '.cache', 'trackme', `jaeger-${JAEGER_VERSION}`);
export const JAEGER_BINARY = path.join(CACHE_DIR, 'jaeger');
export const JAEGER_CONFIG = fileURLToPath(new URL('../../deploy/jaeger/config.yaml', import.meta.url));

// Built in a throwaway module under a flock, so two runs never build at once (the second waits and
// finds the binary). The binary is written under a temporary name beside the final one and renamed
// when complete: an interrupted build leaves no half-written `jaeger`, and the next run removes its
// leftovers (sh runs the EXIT trap on a signal only when the signal is trapped too). Low priority
// and two threads at most: the build takes many minutes and the machine has other work.
const BUILD = `
set -e
[ -x "$BIN" ] && exit 0
rm -f "$BIN".partial.*
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
cd "$work"
"$GO" mod init trackme-jaeger-build >/dev/null 2>&1
nice -n 10 "$GO" get -tool "$MODULE/cmd/jaeger@$VERSION"
nice -n 10 "$GO" build -p 2 -trimpath -o "$BIN.partial.$$" "$MODULE/cmd/jaeger"
mv -f "$BIN.partial.$$" "$BIN"
`;

function goCommand() {
  if (process.env.GO) return process.env.GO;
  const local = '/usr/local/go/bin/go';
  return existsSync(local) ? local : 'go';
}

/**
 * The path of the Jaeger binary, building it first when the cache has none (which takes 10 to 30
 * minutes on two cores; `log` hears when it starts and how long it took).
 */
export async function jaegerBinary(log = console.log) {
  if (existsSync(JAEGER_BINARY)) return JAEGER_BINARY;
  mkdirSync(CACHE_DIR, { recursive: true });
  log(`building Jaeger ${JAEGER_VERSION} from the Go module proxy into ${CACHE_DIR} (once; 15 to 30 minutes)`);
  const started = Date.now();
  const output = [];
  const code = await new Promise((resolve) => {
    const child = spawn('flock', [path.join(CACHE_DIR, 'build.lock'), 'sh', '-c', BUILD], {
      env: {
        ...process.env,
        BIN: JAEGER_BINARY,
        GO: goCommand(),
        MODULE,
        VERSION: JAEGER_VERSION,
        GOMAXPROCS: '2',
        GOFLAGS: '-mod=mod -buildvcs=false',
        GOTOOLCHAIN: 'local',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (error) => {
      output.push(Buffer.from(String(error)));
      resolve(1);
    });
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? signal));
  });
  if (code !== 0 || !existsSync(JAEGER_BINARY)) {
    throw new Error(`building Jaeger ${JAEGER_VERSION} failed (${code}):\n${Buffer.concat(output).toString().slice(-4000)}`);
  }
  log(`Jaeger ${JAEGER_VERSION} ready after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return JAEGER_BINARY;
}

/**
 * Starts Jaeger with deploy/jaeger/config.yaml (OTLP/HTTP in, memory storage, query API) on the
 * given loopback ports and waits until its query API answers. `otlpEndpoint` is what
 * OTEL_EXPORTER_OTLP_ENDPOINT should say.
 */
export async function startJaeger({ otlpPort = 4318, queryPort = 16686, queryGrpcPort = 16685, stdio = 'ignore', log } = {}) {
  const binary = await jaegerBinary(log);
  const child = spawn(binary, [`--config=file:${JAEGER_CONFIG}`], {
    env: {
      PATH: process.env.PATH ?? '',
      JAEGER_OTLP_HTTP_PORT: String(otlpPort),
      JAEGER_QUERY_PORT: String(queryPort),
      JAEGER_QUERY_GRPC_PORT: String(queryGrpcPort),
    },
    stdio,
  });
  let failed;
  child.on('error', (error) => (failed = error));
  const queryUrl = `http://127.0.0.1:${queryPort}`;
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (failed) throw new Error(`Jaeger (${binary}) did not start: ${failed.message}`);
    if (child.exitCode !== null) throw new Error(`Jaeger exited at start-up (${child.exitCode}); are its ports ${otlpPort}, ${queryPort}, ${queryGrpcPort} free?`);
    const ready = await fetch(`${queryUrl}/api/services`).then((response) => response.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Jaeger's query API (${queryUrl}) did not answer within 30 s`);
    }
    await sleep(200);
  }
  return { queryUrl, otlpEndpoint: `http://127.0.0.1:${otlpPort}`, child, stop };
}
