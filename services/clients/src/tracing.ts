import { startTracing } from '@trackme/platform/tracing';

// imported first by main.ts: the instrumentations must be in place before the drivers load
startTracing('clients');
