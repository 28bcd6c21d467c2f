/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { http, isolatedEnv, spawnService, tokenFor, uniqueId, waitFor, waitUntilReady, type ServiceProcess } from '@trackme/testkit';
import { ensureConsoleBuilt, launchBrowser, newPage, photograph, seriousViolations } from '../console/browser.js';

/**
 * The web console in Debian's Chromium against the whole system started as processes: one test
 * per thing a user does, axe-core on every page in light and dark mode, and screenshots at desktop
 * and 375 px width.
 */

let system: { api: string; processes: ServiceProcess[] };
let browser: Browser;
let consoleUrl: string;
const password = `Umbrella-${randomUUID()}-Quartz`;
const people = {
  root: { name: 'Sam Super', email: `${uniqueId('root')}@example.com`.toLowerCase(), role: 'super_user' },
  admin: { name: 'Ada Admin', email: `${uniqueId('admin')}@example.com`.toLowerCase(), role: 'admin' },
  manager: { name: 'Max Manager', email: `${uniqueId('manager')}@example.com`.toLowerCase(), role: 'manager' },
};
const recent = new Date(Date.now() - 86_400_000).toISOString();
const ids: Record<string, string> = {};

async function createClient(key: string, fields: Record<string, unknown>): Promise<void> {
  const answer = await http('POST', `${system.api}/clients`, { name: key, email: `${uniqueId(key.replace(' ', '-'))}@example.com`.toLowerCase(), source: 'web', channel: 'organic', ...fields });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  ids[key] = (answer.body.data as { id: string }).id;
}

beforeAll(async () => {
  ensureConsoleBuilt();
  const [env, launched] = await Promise.all([isolatedEnv(), launchBrowser()]);
  browser = launched;
  // the four services as processes, given time to start on a loaded machine
  const consumer = { ...env, LIST_CACHE_MS: '0', KAFKA_SESSION_TIMEOUT_MS: '6000' };
  const [read, clients, metrics] = await Promise.all([spawnService('read', consumer), spawnService('clients', consumer), spawnService('metrics', consumer)]);
  const gateway = await spawnService('gateway', { ...consumer, READ_URL: read.url, METRICS_URL: metrics.url });
  system = { api: `${gateway.url}/api/v1`, processes: [read, clients, metrics, gateway] };
  await Promise.all(system.processes.map((p) => waitUntilReady(p, 120_000)));
  consoleUrl = `${system.api}/console/`;
  const root = `Bearer ${await tokenFor('super_user', { sub: 'console-test-operator' })}`;
  for (const person of Object.values(people)) {
    const created = await http('POST', `${system.api}/users`, { ...person, password }, { authorization: root });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  // one client per highlight cause, and one with nothing to do
  await createClient('App Missing', { app: 'not_installed', last_login: recent, contracts: [{ id: 'k1', number: 'N-1', autopayment: 'enabled' }] });
  await createClient('Never Seen', { app: 'installed', contracts: [{ id: 'k1', number: 'N-2', autopayment: 'enabled' }] });
  await createClient('Autopay Off', { app: 'installed', last_login: recent, contracts: [{ id: 'k1', number: 'N-3', autopayment: 'disabled' }] });
  await createClient('All Fine', { app: 'installed', last_login: recent, stage: 'product_selection', contracts: [{ id: 'k1', number: 'N-4', autopayment: 'enabled' }] });
  await createClient('Board Mover', { app: 'installed', last_login: recent });
  await createClient('Stale Card', { app: 'installed', last_login: recent });
  await waitFor(async () => (await http('GET', `${system.api}/clients?limit=10`)).body.meta?.total === 6, { what: 'six clients listed' });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all((system?.processes ?? []).map((p) => p.stop('SIGKILL')));
});

async function signedIn(who: keyof typeof people, path = '', options: { frozenTimers?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(15_000);
  const { page, problems } = await newPage(context);
  // the page's timers stand still: no revalidation runs unless the test says so
  if (options.frozenTimers) await page.clock.install();
  await page.goto(`${consoleUrl}${path}`);
  await page.getByLabel('Email').fill(people[who].email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return { context, page, problems };
}

const text = async (page: Page, selector: string) => (await page.locator(selector).allInnerTexts()).join('\n');

describe('signing in and out', () => {
  it('keeps the refresh token in an httpOnly cookie only, returns to the page it was on, and signs out', async () => {
    const context = await browser.newContext();
    const { page, problems } = await newPage(context);
    await page.goto(`${consoleUrl}board`);
    await page.waitForURL(/\/console\/sign-in\?next=board$/);
    await page.getByLabel('Email').fill(people.admin.email);
    await page.getByLabel('Password').fill('a wrong password, surely');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('invalid email or password').waitFor();
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor();
    expect(page.url()).toMatch(/\/console\/board$/);

    const cookie = (await context.cookies()).find((c) => c.name === 'trackme_refresh');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('trackme_refresh');
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).toBe('{}{}');
    // a reload keeps the session through the cookie
    await page.reload();
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto(`${consoleUrl}clients`);
    await page.waitForURL(/\/console\/sign-in\?next=clients$/);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('the clients table', () => {
  it('keeps the filters in the URL, so the same view opens from a shared link', async () => {
    const { context, page, problems } = await signedIn('manager');
    await page.getByRole('status').getByText('Clients 1–6 of 6').waitFor();
    await page.getByLabel('Stage').selectOption('product_selection');
    await page.getByLabel('Source').fill('web');
    // the page re-renders before the filters are applied (folding them here; a poll does the
    // same): what the user chose but has not applied yet stays chosen
    await page.getByText('Filters', { exact: true }).click();
    await page.getByText('Filters', { exact: true }).click();
    expect(await page.getByLabel('Stage').inputValue()).toBe('product_selection');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/stage=product_selection&source=web/);
    await page.getByRole('status').getByText('Clients 1–1 of 1').waitFor();
    const shared = page.url();
    const other = await context.newPage();
    await other.goto(shared);
    await other.getByRole('status').getByText('Clients 1–1 of 1').waitFor();
    expect(await text(other, 'table.clients tbody th')).toBe('All Fine');
    expect(await other.getByLabel('Stage').inputValue()).toBe('product_selection');
    expect(await other.getByLabel('Source').inputValue()).toBe('web');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows each highlight cause as a red cell with a written marker, and the needs-attention view', async () => {
    const { context, page } = await signedIn('manager');
    await page.getByRole('status').getByText('Clients 1–6 of 6').waitFor();
    const cause = async (name: string) => page.locator('table.clients tbody tr', { has: page.getByRole('link', { name, exact: true }) }).locator('td.hot').evaluateAll((cells) => cells.map((c) => `${c.getAttribute('data-cause')}: ${(c as HTMLElement).innerText}`));
    expect(await cause('App Missing')).toEqual(['app: ⚠ Not installed (app missing)']);
    expect(await cause('Never Seen')).toEqual(['login: ⚠ — (never logged in)']);
    expect(await cause('Autopay Off')).toEqual(['autopayment: ⚠ N-3: off (autopayment off)']);
    expect(await cause('All Fine')).toEqual([]);
    const red = await page.locator('td.hot').first().evaluate((cell) => getComputedStyle(cell).color);
    const [r, g, b] = red.match(/\d+/g)!.map(Number);
    expect(r).toBeGreaterThan(g! + 60);
    expect(r).toBeGreaterThan(b! + 60);

    await page.getByRole('link', { name: 'Needs attention' }).click();
    await page.waitForURL(/highlighted=true/);
    await page.getByRole('heading', { name: 'Clients that need attention' }).waitFor();
    await page.getByRole('status').getByText('Clients 1–3 of 3').waitFor();
    expect(await text(page, 'table.clients tbody th')).not.toContain('All Fine');
    await context.close();
  });

  it('shows a client created elsewhere without a reload', async () => {
    const { context, page } = await signedIn('manager', 'clients?source=elsewhere');
    await page.getByRole('status').getByText('No clients match.').waitFor();
    await createClient('Fresh Arrival', { source: 'elsewhere' });
    await page.getByRole('link', { name: 'Fresh Arrival' }).waitFor({ timeout: 5_000 });
    await context.close();
  });
});

describe('the pipeline board', () => {
  it('moves a card to a stage the process allows, and shows the refusal of one it no longer allows', async () => {
    const { context, page, problems } = await signedIn('admin', 'board', { frozenTimers: true });
    const column = (stage: string) => page.getByRole('region', { name: new RegExp(`^${stage} \\d+`) });
    await column('Registration').getByRole('link', { name: 'Board Mover' }).waitFor();
    const options = await page.getByLabel('Move Board Mover to').locator('option').allInnerTexts();
    expect(options).toEqual(['Product selection']);
    await page.getByRole('button', { name: 'Move Board Mover' }).click();
    await page.getByRole('status').getByText('Board Mover moved to Product selection.').waitFor();
    await column('Product selection').getByRole('link', { name: 'Board Mover' }).waitFor();
    expect(await column('Product selection').locator('.badge').innerText()).toBe('2');
    // the move is a full update in the API: nothing else about the client is lost on the way
    const moved = (await http('GET', `${system.api}/clients/${ids['Board Mover']}`, undefined, { 'cache-control': 'no-cache' })).body.data;
    expect(moved).toMatchObject({ stage: 'product_selection', source: 'web', channel: 'organic', app: { status: 'installed' }, last_login: { highlight: false } });

    // another user moves the card on meanwhile; the board still offers the move from where it was
    const stale = { name: 'Stale Card', email: (await http('GET', `${system.api}/clients/${ids['Stale Card']}`)).body.data.email, source: 'web', channel: 'organic', app: 'installed', last_login: recent };
    for (const stage of ['product_selection', 'data_consent', 'form_filling']) {
      expect((await http('PUT', `${system.api}/clients/${ids['Stale Card']}/stage`, { ...stale, stage })).status).toBe(200);
    }
    await page.getByRole('button', { name: 'Move Stale Card' }).click();
    const refusal = await http('PUT', `${system.api}/clients/${ids['Stale Card']}/stage`, { ...stale, stage: 'product_selection' });
    expect(refusal.status).toBe(400);
    await page.getByRole('alert').getByText(refusal.body.detail as string).waitFor();
    // the board catches up with where the card is now
    await column('Form filling').getByRole('link', { name: 'Stale Card' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('moves a card dragged by its name onto a column the process allows', async () => {
    await createClient('Drag Card', { app: 'installed', last_login: recent });
    // timers stand still: a poll re-rendering the board mid-drag would move the cards under the mouse
    const { context, page, problems } = await signedIn('admin', 'board', { frozenTimers: true });
    const column = (stage: string) => page.getByRole('region', { name: new RegExp(`^${stage} \\d+`) });
    const name = column('Registration').getByRole('link', { name: 'Drag Card' });
    await name.waitFor();
    await name.dragTo(column('Product selection'));
    await page.getByRole('status').getByText('Drag Card moved to Product selection.').waitFor();
    await column('Product selection').getByRole('link', { name: 'Drag Card' }).waitFor();
    const moved = (await http('GET', `${system.api}/clients/${ids['Drag Card']}`, undefined, { 'cache-control': 'no-cache' })).body.data;
    expect(moved).toMatchObject({ stage: 'product_selection', app: { status: 'installed' } });
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('the client page', () => {
  it('shows the API’s field error next to the field, saves a valid edit, and lists it in the timeline with the actor', async () => {
    const { context, page, problems } = await signedIn('admin', `clients/${ids['All Fine']}`);
    await page.getByRole('heading', { name: 'All Fine' }).waitFor();
    expect(await text(page, 'table')).toContain('N-4');
    const email = page.getByRole('textbox', { name: 'Email' });
    await email.fill('not-an-email');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#err-email').waitFor();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#err-email').innerText()).toMatch(/email/i);
    // the refused value stays in the field, to be corrected rather than typed again
    expect(await email.inputValue()).toBe('not-an-email');

    await email.fill(`${uniqueId('fine')}@example.com`);
    await page.getByRole('textbox', { name: 'Name' }).fill('All Fine Renamed');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    const entry = page.locator('.timeline > li', { hasText: 'Changed' }).first();
    await entry.getByText('All Fine → All Fine Renamed').waitFor();
    expect(await entry.locator('.meta').innerText()).toMatch(/by Ada Admin \(admin\)$/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('deletes a client only after a confirmation', async () => {
    await createClient('Short Lived', { app: 'installed' });
    const { context, page } = await signedIn('admin', `clients/${ids['Short Lived']}`);
    await page.getByRole('button', { name: 'Delete client' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await http('GET', `${system.api}/clients/${ids['Short Lived']}`, undefined, { 'cache-control': 'no-cache' })).status).toBe(200);
    await page.getByRole('button', { name: 'Delete client' }).click();
    await page.getByRole('button', { name: 'Yes, delete client' }).click();
    await page.waitForURL(/\/console\/clients$/);
    expect((await http('GET', `${system.api}/clients/${ids['Short Lived']}`, undefined, { 'cache-control': 'no-cache' })).status).toBe(404);
    await context.close();
  });
});

describe('the metrics page', () => {
  it('recalculates for an admin, following the job, and then charts the figures', async () => {
    // the figures come from what the metrics service consumed: let it catch up with the board's moves
    const day = new Date().toISOString().slice(0, 10);
    await waitFor(async () => {
      expect((await http('POST', `${system.api}/metrics/calculate?interval=day`)).status).toBe(202);
      const answer = await http('GET', `${system.api}/metrics?type=clients-per-stage&interval=day&from=${day}&to=${day}&limit=100`);
      const rows = answer.body.data as Array<{ value: number; labels: Record<string, string> }>;
      return rows.some((r) => r.labels['stage'] === 'form_filling' && r.value === 1);
    }, { what: 'the metrics service counting the board moves', timeoutMs: 60_000, intervalMs: 500 });
    const { context, page, problems } = await signedIn('admin', 'metrics');
    await page.getByRole('button', { name: 'Recalculate day' }).click();
    await page.getByRole('status').getByText(/Job succeeded: \d+ rows/).waitFor({ timeout: 30_000 });
    await page.locator('figure', { hasText: 'Daily active clients (DAU)' }).locator('canvas').first().waitFor();
    const perStage = page.locator('figure.bars', { hasText: 'Clients per stage' });
    await perStage.getByRole('row', { name: /Registration/ }).waitFor();
    expect(await perStage.getByRole('row', { name: /Form filling/ }).innerText()).toMatch(/1$/);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});

describe('roles', () => {
  it('shows a manager no write controls anywhere', async () => {
    const { context, page } = await signedIn('manager', `clients/${ids['Never Seen']}`);
    await page.getByRole('heading', { name: 'History' }).waitFor();
    expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
    await page.getByRole('link', { name: 'Board' }).click();
    await page.getByRole('region', { name: /^Registration/ }).getByRole('link', { name: 'Never Seen' }).waitFor();
    expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.getByRole('heading', { name: 'Metrics' }).waitFor();
    expect(await page.getByRole('button', { name: /Recalculate/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await context.close();
  });

  it('lets a super user create a user, change its role and delete it', async () => {
    const { context, page, problems } = await signedIn('root', 'users');
    const email = `${uniqueId('new')}@example.com`.toLowerCase();
    await page.getByRole('textbox', { name: 'Name' }).fill('Nia New');
    await page.getByRole('textbox', { name: 'Email' }).fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('status').getByText(`${email} created.`).waitFor();
    await page.getByLabel('Role of Nia New').selectOption('admin');
    await page.getByRole('status').getByText('Nia New is now admin.').waitFor();
    const row = page.getByRole('row', { name: /Nia New/ });
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByRole('status').getByText('Nia New deleted.').waitFor();
    expect(await page.getByRole('row', { name: /Nia New/ }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('every page', () => {
  it('has no serious or critical axe-core violations, and is photographed at desktop and 375 px', async () => {
    const anonymous = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const signIn = await anonymous.newPage();
    await signIn.goto(`${consoleUrl}sign-in`);
    await signIn.getByRole('heading', { name: 'Sign in' }).waitFor();
    const found: Record<string, string[]> = { 'sign-in': await seriousViolations(signIn) };
    await photograph(signIn, 'sign-in');
    await anonymous.close();

    const { context, page } = await signedIn('root');
    const pages: [string, string, () => Promise<void>][] = [
      ['clients', 'clients', () => page.getByRole('status').getByText(/Clients 1–/).waitFor()],
      ['attention', 'clients?highlighted=true', () => page.getByRole('status').getByText(/Clients 1–/).waitFor()],
      ['client', `clients/${ids['Autopay Off']}`, () => page.getByRole('heading', { name: 'History' }).waitFor()],
      ['board', 'board', () => page.getByRole('region', { name: /^Registration/ }).waitFor()],
      ['metrics', 'metrics', () => page.locator('figure.bars').first().waitFor()],
      ['users', 'users', () => page.getByRole('row', { name: /Sam Super/ }).waitFor()],
    ];
    for (const [name, path, ready] of pages) {
      await page.goto(`${consoleUrl}${path}`);
      await ready();
      found[name] = await seriousViolations(page);
      await photograph(page, name);
    }
    // the same pages in dark mode (the system setting): colour contrast is checked again there
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const [name, path, ready] of pages) {
      await page.goto(`${consoleUrl}${path}`);
      await ready();
      expect(await background(), `${name} in dark mode`).not.toBe(light);
      found[`${name} (dark)`] = await seriousViolations(page);
    }
    await photograph(page, 'users-dark');
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((name) => [name, []])));
    await context.close();
  }, 180_000);
});
