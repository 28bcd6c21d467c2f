import { describeComposition } from '@trackme/testkit';
import { composeMetrics } from '../src/compose.js';
import { MetricsConfigSchema } from '../src/config.js';

describeComposition('metrics', MetricsConfigSchema, composeMetrics, ['mongo', 'redis', 'kafka']);
