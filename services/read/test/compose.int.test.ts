import { describeComposition } from '@trackme/testkit';
import { composeRead } from '../src/compose.js';
import { ReadConfigSchema } from '../src/config.js';

describeComposition('read', ReadConfigSchema, composeRead, ['mongo', 'kafka']);
