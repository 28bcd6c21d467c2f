import { describeComposition } from '@trackme/testkit';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema } from '../src/config.js';

describeComposition('gateway', GatewayConfigSchema, composeGateway, ['kafka', 'redis', 'mongo']);
