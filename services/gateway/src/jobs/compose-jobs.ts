import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { StageProcess } from '@trackme/contracts';
import type { Lifecycle, Logger } from '@trackme/platform';
import type { WriteContext } from '../commands/write-command.js';
import type { GatewayConfig } from '../config.js';
import type { ReadClient } from '../read/read-client.js';
import { JobRunner } from './job-runner.js';
import { JobStore } from './job-store.js';
import type { JobsDeps } from './submit.js';

const DAY_MS = 86_400_000;
/** a job item waits this many WRITE_TIMEOUT_MS for its reply: nobody is waiting on it, and each resend costs a round trip */
const JOB_ITEM_WAITS = 4;

/** The job store and this instance's runner, which stops before the producer it sends through closes. */
export function composeJobs(parts: { config: GatewayConfig; db: Db; write: WriteContext; read: ReadClient; stages: StageProcess; logger: Logger; lifecycle: Lifecycle }): JobsDeps {
  const { config, db, write, read, stages, logger, lifecycle } = parts;
  const store = new JobStore(db);
  const retentionMs = config.JOB_RETENTION_DAYS * DAY_MS;
  const runner = new JobRunner(store, { bus: write.bus, read, timeoutMs: write.timeoutMs * JOB_ITEM_WAITS }, logger.child({ component: 'job runner' }), {
    owner: randomUUID(),
    window: config.JOB_WINDOW,
    retentionMs,
    leaseMs: config.JOB_LEASE_MS,
    ready: () => write.bus.isReady,
  });
  runner.start();
  lifecycle.onStop('job runner', () => runner.stop());
  return { store, write, read, process: stages, retentionMs, importMaxBytes: config.IMPORT_MAX_BYTES };
}
