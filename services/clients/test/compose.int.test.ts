import { describeComposition } from '@trackme/testkit';
import { composeClients } from '../src/compose.js';
import { ClientsConfigSchema } from '../src/config.js';

describeComposition('clients', ClientsConfigSchema, composeClients, ['mongo', 'kafka']);
