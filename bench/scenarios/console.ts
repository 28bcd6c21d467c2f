/// <reference lib="dom" />
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT, spawnService, waitUntilReady } from '@trackme/testkit';
import { ensureConsoleBuilt, launchBrowser } from '../../test/console/browser.js';
import { alternate, load, median } from '../lib/load.js';
import { fmt, type Scenario } from '../lib/scenario.js';
import { apiClient, seedClients } from '../lib/seed.js';
import { startSystem } from '../lib/system.js';
// @ts-expect-error a plain ES module shared with scripts/start.mjs
import { devSigningKey } from '../../scripts/lib/dev-secret.mjs';

const CLIENTS = 10_000;
const LIST = '/clients?limit=50';
const BUDGET_KB = 200;

/** The files the console's page loads before anything else: its entry script, preloads and styles. */
function initialAssets(): { file: string; raw: number; gzip: number; js: boolean }[] {
  const dist = path.join(REPO_ROOT, 'web', 'dist');
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
  return files.map((file) => {
    const bytes = readFileSync(path.join(dist, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, js: file.endsWith('.js') };
  });
}

/**
 * The console: its first JavaScript against the 200 KB budget, the clients page's time to
 * interactive with 10,000 clients (cold and warm cache), and the cached list's requests/s from a
 * gateway serving the console against one without its routes.
 */
export const consoleBench: Scenario = {
  name: 'console',
  title: "Web console: initial JavaScript, the clients page's time to interactive (10,000 clients), cached list with vs without the console routes",
  async run(context) {
    ensureConsoleBuilt();
    const assets = initialAssets();
    const initialJsKb = assets.filter((a) => a.js).reduce((sum, a) => sum + a.gzip, 0) / 1024;
    // users sign in to the console: the gateway needs its signing key
    const system = await startSystem(context.env, { env: { AUTH_SIGNING_KEY: devSigningKey(context.env) as string } });
    const plain = await spawnService('gateway', { ...system.env, READ_URL: system.of('read')[0]!.url, METRICS_URL: system.of('metrics')[0]!.url, CONSOLE_ENABLED: 'false' });
    const browser = await launchBrowser();
    try {
      await waitUntilReady(plain, 60_000);
      const seeded = await seedClients(system.api, context.authorization, CLIENTS);
      if (seeded.created) console.log(`seeded ${seeded.created} clients in ${seeded.seconds.toFixed(0)} s`);
      const api = apiClient(system.api, context.authorization);
      const email = `console-bench-${Date.now()}@example.com`;
      const password = `Umbrella-${Date.now()}-Quartz-bench`;
      const created = await api.request('POST', '/users', { name: 'Console Bench', email, password, role: 'manager' });
      await api.close();
      if (created.status !== 201) throw new Error(`could not create the bench user: ${created.status}`);

      // time to interactive: navigation start until the first page of clients is shown with its total
      const page = await (await browser.newContext()).newPage();
      const consoleUrl = `${system.api}/console/`;
      await page.goto(`${consoleUrl}clients`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('status').getByText(/Clients 1–50 of/).waitFor({ timeout: 60_000 });
      const cdp = await page.context().newCDPSession(page);
      const visit = async (cold: boolean) => {
        if (cold) await cdp.send('Network.clearBrowserCache');
        await page.goto(`${consoleUrl}clients`);
        await page.getByRole('status').getByText(/Clients 1–50 of/).waitFor({ timeout: 60_000 });
        return page.evaluate(() => performance.now());
      };
      const times = { cold: [] as number[], warm: [] as number[] };
      for (let i = 0; i < (context.quick ? 3 : 7); i++) {
        times.cold.push(await visit(true));
        times.warm.push(await visit(false));
      }
      const tti = { cold: median(times.cold), warm: median(times.warm) };

      const rounds = context.quick ? 1 : 3;
      const seconds = context.quick ? 3 : 10;
      const headers = { authorization: context.authorization };
      const r = await alternate(rounds, {
        without: () => load(`${plain.url}/api/v1${LIST}`, { connections: 16, seconds, headers }),
        with: () => load(`${system.api}${LIST}`, { connections: 16, seconds, headers }),
      });
      const ratio = r.with.median.rps / r.without.median.rps;
      return {
        figures: { assets, initialJsKb, tti, times, rounds, seconds, ...r, withOverWithout: ratio },
        goals: [
          { goal: `initial JavaScript ≤ ${BUDGET_KB} KB gzipped`, measured: `${initialJsKb.toFixed(1)} KB`, met: initialJsKb <= BUDGET_KB },
          { goal: 'cached list with the console routes ≥ 0.98 × without them (requests/s)', measured: fmt.ratio(ratio), met: ratio >= 0.98 },
        ],
        markdown: [
          '| initial asset | raw | gzipped |',
          '|---|---:|---:|',
          ...assets.map((a) => `| \`${a.file}\` | ${(a.raw / 1024).toFixed(1)} KB | ${(a.gzip / 1024).toFixed(1)} KB |`),
          '',
          `Clients page with ${CLIENTS.toLocaleString('en-US')}+ clients, navigation start until the first 50 rows and the total show (median of ${times.cold.length}): cold cache ${fmt.ms(tti.cold)}, warm cache ${fmt.ms(tti.warm)}.`,
          '',
          `Cached \`GET ${LIST}\`, 16 connections, median of ${rounds} alternating rounds of ${seconds} s: with the console routes ${fmt.rps(r.with.median.rps)}/s, without ${fmt.rps(r.without.median.rps)}/s (${fmt.ratio(ratio)}).`,
        ].join('\n'),
      };
    } finally {
      await browser.close();
      await plain.stop();
      await system.stop();
    }
  },
};
