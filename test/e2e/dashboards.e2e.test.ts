import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort, http, isolatedEnv, REPO_ROOT, spawnSystem, waitFor, type RunningSystem } from '@trackme/testkit';
import { prometheusBinaries } from '../../scripts/lib/prometheus.mjs';

/**
 * A real Prometheus (Debian's) scrapes the four services after a short workload, with the rules of
 * deploy/prometheus/rules.yml loaded: every Grafana panel's query and every rule expression must
 * evaluate without error, and each must find series.
 */

let system: RunningSystem;
let prometheus: ChildProcess;
let api: string;
/** Prometheus's config and data, under the git-ignored .local/ */
let dir: string;

const panels = readdirSync(path.join(REPO_ROOT, 'deploy/grafana/dashboards')).flatMap((file) => {
  const board = JSON.parse(readFileSync(path.join(REPO_ROOT, 'deploy/grafana/dashboards', file), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  return board.panels.flatMap((panel) => panel.targets.map((target) => ({ where: `${file}: ${panel.title}`, expr: target.expr })));
});
const rules = (parse(readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string; alert?: string; expr: string }> }> }).groups.flatMap(
  (group) => group.rules.map((rule) => ({ where: rule.record ?? rule.alert!, expr: rule.expr, alert: Boolean(rule.alert) })),
);

beforeAll(async () => {
  const env = await isolatedEnv();
  system = await spawnSystem({ ...env, METRICS_GAUGE_REFRESH_SECONDS: '1' });
  const emails: string[] = [];
  for (const [i, source] of ['ads', 'referral', 'ads'].entries()) {
    const client = { name: `Dash ${i}`, email: `dash-${randomUUID()}@example.com` };
    emails.push(client.email);
    const created = await http('POST', `${system.api}/clients`, { ...client, source, channel: 'organic', stage: 'payment_waiting' });
    expect(created.status).toBe(201);
    const id = (created.body as { data: { id: string } }).data.id;
    expect((await http('PUT', `${system.api}/clients/${id}/stage`, { ...client, stage: 'completed' })).status).toBe(200);
    await http('PATCH', `${system.api}/clients/${id}`, { app: 'installed' });
  }
  const logins = emails.map((email, i) => ({ event_id: `login-${randomUUID()}`, type: 'login', email, occurred_at: new Date(Date.now() - i * 1000).toISOString() }));
  expect((await http('POST', `${system.api}/events`, { events: logins })).status).toBe(202);
  for (let i = 0; i < 10; i++) await http('GET', `${system.api}/clients?limit=5`);
  expect((await http('POST', `${system.api}/metrics/calculate?interval=day`)).status).toBeLessThan(300);

  const { prometheus: binary } = prometheusBinaries();
  dir = path.join(REPO_ROOT, '.local', `prometheus-${randomUUID().slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  const jobs = system.processes.map((p) => `  - job_name: ${p.name}\n    static_configs: [{ targets: ['${new URL(p.metricsUrl).host}'] }]`);
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: ['${path.join(REPO_ROOT, 'deploy/prometheus/rules.yml')}']\nscrape_configs:\n${jobs.join('\n')}\n`,
  );
  const port = await freePort();
  api = `http://127.0.0.1:${port}/api/v1`;
  prometheus = spawn(binary, [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  // a few scrapes and rule evaluations after the workload
  await waitFor(async () => (await query('count(up == 1)'))[0]?.value[1] === '4', { timeoutMs: 30_000, intervalMs: 500, what: 'four services scraped' });
  await new Promise((resolve) => setTimeout(resolve, 8_000));
}, 180_000);

afterAll(async () => {
  prometheus?.kill('SIGKILL');
  await system?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`${api}/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

/** The series an expression reads: its metric and recorded-rule names. */
const selectors = (expr: string) => [...new Set(expr.match(/\b(up|trackme[:_][a-z0-9_:]+)(?=[{[\s)]|$)/g) ?? [])];

describe('dashboards and rules against a real Prometheus', () => {
  it('every panel query evaluates and finds series', async () => {
    const empty: string[] = [];
    for (const panel of panels) if ((await query(panel.expr)).length === 0) empty.push(panel.where);
    expect(empty).toEqual([]);
  });

  it('every rule expression evaluates, and every series it reads exists', async () => {
    const missing: string[] = [];
    for (const rule of rules) {
      const result = await query(rule.expr);
      // a recording rule has a value; an alert's condition is empty while all is well
      if (!rule.alert && result.length === 0) missing.push(rule.where);
      for (const name of selectors(rule.expr)) if ((await query(name)).length === 0) missing.push(`${rule.where}: ${name}`);
    }
    expect(missing).toEqual([]);
  });
});
