import './tracing.js';
import { runService } from '@trackme/platform';
import { composeRead } from './compose.js';
import { ReadConfigSchema } from './config.js';

await runService('read', ReadConfigSchema, composeRead);
