/** Writes docs/openapi.json from the gateway's route schemas. Usage: npm run openapi */
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument, OPENAPI_PATH, renderOpenApi } from './lib/openapi.js';

writeFileSync(OPENAPI_PATH, renderOpenApi(await buildOpenApiDocument()));
console.log(`${OPENAPI_PATH} written`);
