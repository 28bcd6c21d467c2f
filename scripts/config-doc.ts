/** Regenerates the configuration table in README.md from the services' config schemas. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from './lib/config-table.js';

writeFileSync('README.md', withConfigTable(readFileSync('README.md', 'utf8')));
console.log('README.md configuration table updated');
