import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes a scenario's figures as JSON and its table as Markdown to bench/results/ (git-ignored) and prints the table. */
export function writeResults(scenario: string, figures: object, markdown: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = path.join(RESULTS_DIR, `${scenario}-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ scenario, at: new Date().toISOString(), ...figures }, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${markdown}\n`);
  console.log(`\n${markdown}\n\n(${path.relative(process.cwd(), base)}.{json,md})`);
  return base;
}
