// `npm start`: the whole system on this machine. Provisions and starts the native local stack
// (unless it already runs), creates topics, migrates, builds, starts the four services as
// separate processes and prints where the API is. Ctrl-C stops everything it started.
import './ensure-deps.mjs'; // first: everything below may need the npm packages
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { devInternalToken, devJwtSecret, devSigningKey } from './lib/dev-secret.mjs';
import { supervise } from './lib/supervise.mjs';
import { startPrometheus, startTraceStore } from './lib/observe.mjs';

const SERVICES = [
  { name: 'gateway', port: 8080 },
  { name: 'clients', port: 8081 },
  { name: 'read', port: 8082 },
  { name: 'metrics', port: 8083 },
];
const READY_TIMEOUT_MS = 60_000;

const say = (message) => console.log(`[start] ${message}`);

function run(command, args, env = process.env) {
  const { status } = spawnSync(command, args, { stdio: 'inherit', env });
  if (status !== 0) {
    say(`${[command, ...args].join(' ')} failed (exit ${status})`);
    process.exit(status ?? 1);
  }
}

// .env (if present) overrides the defaults; every variable is documented in .env.dist
if (existsSync('.env')) process.loadEnvFile('.env');
const stackAddresses = Object.fromEntries(
  spawnSync('bash', ['deploy/local/stack.sh', 'env', 'dev'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((line) => line.split('=', 2)),
);
const env = { ...stackAddresses, ...process.env };
// the gateway verifies bearer tokens; without a configured secret or JWKS it gets a local
// development secret (generated once into .local/), the one `npm run token` signs with
if (!env.JWT_SECRET && !env.JWKS_URL && env.AUTH_MODE !== 'disabled') env.JWT_SECRET = devJwtSecret(env);
// users sign in with tokens the gateway signs with this key (generated once into .local/ when unset)
env.AUTH_SIGNING_KEY = devSigningKey(env);
// read and metrics answer only the gateway, which presents this token
env.INTERNAL_TOKEN = devInternalToken(env);

const stackWasUp = spawnSync('bash', ['deploy/local/stack.sh', 'status', 'dev'], { stdio: 'ignore' }).status === 0;
const t0 = Date.now();
if (!stackWasUp) run('bash', ['deploy/local/stack.sh', 'up', 'dev']);
say('building');
run('npx', ['tsc', '-b']);
run('npm', ['run', '--silent', 'build', '-w', 'web']);
run('npx', ['tsx', '--conditions=@trackme/source', 'scripts/kafka-topics.ts'], env);
run('npx', ['tsx', '--conditions=@trackme/source', 'scripts/migrate.ts'], env);

const portOf = ({ name, port }) => Number(env[`${name.toUpperCase()}_PORT`] ?? port);
const urlOf = (name) => `http://127.0.0.1:${portOf(SERVICES.find((service) => service.name === name))}`;
// the gateway relays to read and metrics where they listen here, also when .env moves their ports
// (READ_URL / METRICS_URL set explicitly still win)
const internalUrls = { READ_URL: urlOf('read'), METRICS_URL: urlOf('metrics') };

// --observe: the trace store first, so the services export their traces to it from the start
const observe = process.argv.includes('--observe');
const traceStore = observe ? await startTraceStore(say).catch((error) => {
  say(`the trace store did not start: ${error.message}`);
  if (!stackWasUp) spawnSync('bash', ['deploy/local/stack.sh', 'down', 'dev'], { stdio: 'inherit' });
  process.exit(1);
}) : undefined;
if (traceStore) env.OTEL_EXPORTER_OTLP_ENDPOINT = traceStore.otlpEndpoint;

const spawnService = ({ name, port }) =>
  spawn(process.execPath, [`services/${name}/dist/main.js`], {
    stdio: 'inherit',
    env: { ...(name === 'gateway' ? internalUrls : {}), ...env, PORT: String(port) },
  });
const children = SERVICES.map((service) => ({ name: service.name, port: portOf(service), child: spawnService({ name: service.name, port: portOf(service) }) }));

// --observe: Prometheus with the alert rules, scraping the services' metrics ports
const observer = observe
  ? startPrometheus(children.map(({ name, port }) => ({ name, metricsPort: port + 1000 })))
  : undefined;

let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say('stopping services');
  observer?.child.kill('SIGTERM');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  // after the services, which export their last spans as they stop
  await traceStore?.stop();
  if (!stackWasUp) spawnSync('bash', ['deploy/local/stack.sh', 'down', 'dev'], { stdio: 'inherit' });
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
supervise(children, { isStopping: () => stopping, spawn: spawnService, say });

const deadline = Date.now() + READY_TIMEOUT_MS;
for (const { name, port } of children) {
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      say(`${name} is not ready after ${READY_TIMEOUT_MS / 1000} s`);
      await stopAll(1);
    }
    await sleep(250);
  }
}
const gateway = children[0];
const basePath = env.BASE_PATH ?? '/api/v1';
say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
say(`API      http://127.0.0.1:${gateway.port}${basePath}`);
say(`Swagger  http://127.0.0.1:${gateway.port}${basePath}/swagger`);
say(`Console  http://127.0.0.1:${gateway.port}${basePath}/console/`);
if (observer) say(`Prometheus ${observer.url} (alerts: ${observer.url}/alerts)`);
if (traceStore) say(`Traces   ${traceStore.queryUrl}/api/traces?service=trackme-gateway (Jaeger's query API; one trace: /api/traces/{traceId})`);
say(env.AUTH_MODE === 'disabled' ? 'AUTH_MODE=disabled: the API checks no token' : 'token    TOKEN=$(npm run --silent token -- --role admin --ttl 1h); curl -H "Authorization: Bearer $TOKEN" …');
await sayHowToCreateTheFirstUser();
say('Ctrl-C stops everything npm start started');

/** A fresh system has no user to sign in with: say how to make the first super_user. */
async function sayHowToCreateTheFirstUser() {
  const mongo = new MongoClient(env.MONGO_URL, { serverSelectionTimeoutMS: 5_000 });
  try {
    if ((await mongo.db().collection('users').countDocuments({}, { limit: 1 })) > 0) return;
    say('no user yet: create the first super_user (asks for the password; or pipe it on stdin):');
    say('  npm run users -- create --role super_user --email you@example.com --name "Your Name"');
    say(`  then POST ${basePath}/auth/login with {"email", "password"}`);
  } catch (error) {
    say(`could not count the users (${error.message})`);
  } finally {
    await mongo.close();
  }
}
