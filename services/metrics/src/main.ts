import './tracing.js';
import { runService } from '@trackme/platform';
import { composeMetrics } from './compose.js';
import { MetricsConfigSchema } from './config.js';

await runService('metrics', MetricsConfigSchema, composeMetrics);
