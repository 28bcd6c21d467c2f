import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configRows, withConfigTable } from '../scripts/lib/config-table.js';

describe('documentation stays in step with the config schemas', () => {
  it('README configuration table matches the schemas (run `npm run config:doc` to refresh)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(withConfigTable(readme)).toBe(readme);
  });

  it('.env.dist documents every variable a service reads', () => {
    const envDist = readFileSync('.env.dist', 'utf8');
    const missing = configRows().filter((row) => !new RegExp(`^#? ?${row.variable}=`, 'm').test(envDist));
    expect(missing.map((row) => row.variable)).toEqual([]);
  });
});
