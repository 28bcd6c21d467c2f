/** Writes docs/asyncapi.yaml from the message catalog. Usage: npm run asyncapi */
import { readFileSync, writeFileSync } from 'node:fs';
import { ASYNCAPI_PATH, buildAsyncApiDocument, renderAsyncApi } from './lib/asyncapi.js';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
writeFileSync(ASYNCAPI_PATH, renderAsyncApi(buildAsyncApiDocument(version)));
console.log(`${ASYNCAPI_PATH} written`);
