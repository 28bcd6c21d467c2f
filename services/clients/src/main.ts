import './tracing.js';
import { runService } from '@trackme/platform';
import { composeClients } from './compose.js';
import { ClientsConfigSchema } from './config.js';

await runService('clients', ClientsConfigSchema, composeClients);
