/// <reference lib="dom" />
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '@trackme/testkit';

/**
 * What the console's browser tests need: Debian's Chromium (installed from apt when missing, since
 * browser downloads from elsewhere fail here), a built console, axe-core and screenshots.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO_ROOT, '.local', 'screenshots');

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const install = () => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-q', 'chromium'], { stdio: 'inherit' });
  if (install().status !== 0) {
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update', '-q'], { stdio: 'inherit' });
    if (install().status !== 0) throw new Error('chromium could not be installed with apt-get');
  }
}

/** Builds the console when this checkout has no build yet (npm test and npm start build it first). */
export function ensureConsoleBuilt(): void {
  if (existsSync(path.join(REPO_ROOT, 'web', 'dist', 'index.html'))) return;
  const built = spawnSync('npm', ['run', '--silent', 'build', '-w', 'web'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the console did not build');
}

export async function launchBrowser(): Promise<Browser> {
  ensureChromium();
  // root runs Chromium only without its sandbox; the pages are the project's own
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A page that records every CSP refusal and uncaught error, for the test to assert none. */
export async function newPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { page, problems };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now (evaluated over the protocol, so the CSP stays on). */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The page at desktop width and at 375 px, saved under .local/screenshots (git-ignored). */
export async function photograph(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-desktop.png`) });
  await page.setViewportSize({ width: 375, height: 740 });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-375.png`) });
  await page.setViewportSize(size);
}
