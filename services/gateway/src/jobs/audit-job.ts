import type { Logger } from '@trackme/platform';
import type { JobCounts, JobDocument, JobStatus } from './job-model.js';

/** The one audit line of a job, when it ends: who started it, what it was (filter, file or batch), what came of it. */
export function auditJobFinished(logger: Pick<Logger, 'info'>, job: JobDocument, status: JobStatus, counts: JobCounts): void {
  logger.info(
    {
      audit: {
        event: 'bulk_job_finished',
        actor: job.requested_by,
        at: new Date().toISOString(),
        job_id: job._id,
        kind: job.kind,
        spec: job.spec ?? {},
        dry_run: job.dry_run === true,
        status,
        total: job.total,
        ...counts,
      },
    },
    'audit bulk_job_finished',
  );
}
