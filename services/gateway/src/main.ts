import './tracing.js';
import { runService } from '@trackme/platform';
import { composeGateway } from './compose.js';
import { GatewayConfigSchema } from './config.js';

await runService('gateway', GatewayConfigSchema, composeGateway);
