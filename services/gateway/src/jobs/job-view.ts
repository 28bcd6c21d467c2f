import type { Static } from 'typebox';
import type { JobItem, JobDocument } from './job-model.js';
import { progressOf } from './job-model.js';
import type { JobStore } from './job-store.js';
import type { JobQuerySchema, JobSchema } from './http-schemas.js';

const iso = (date: Date | undefined) => (date ? new Date(date).toISOString() : null);

const reportOf = ({ i, line, client_id, status, outcome, code, message, errors }: JobItem) => ({
  index: i,
  ...(line === undefined ? {} : { line }),
  client_id,
  status,
  ...(outcome ? { outcome } : {}),
  ...(code ? { code } : {}),
  ...(message ? { message } : {}),
  ...(errors ? { errors } : {}),
});

/** A job as GET /jobs/{id} answers it: counts, rate and ETA, and one page of its item report. */
export async function jobView(store: JobStore, job: JobDocument, query: Static<typeof JobQuerySchema>, now: Date): Promise<Static<typeof JobSchema>> {
  const counts = await store.counts(job);
  const done = counts.succeeded + counts.refused + counts.failed;
  const page = await store.items(job, query.items_offset, query.items_limit, query.items_status);
  const finished = job.finished_at ? new Date(job.finished_at) : now;
  return {
    id: job._id,
    kind: job.kind,
    status: job.status,
    requested_by: { subject: job.requested_by.subject, ...(job.requested_by.role ? { role: job.requested_by.role } : {}) },
    ...(job.spec ? { spec: job.spec } : {}),
    dry_run: job.dry_run === true,
    counts: { total: job.total, done, ...counts },
    ...progressOf(done, job.total, job.started_at, finished),
    created_at: iso(job.created_at)!,
    started_at: iso(job.started_at),
    finished_at: iso(job.finished_at),
    expires_at: iso(job.expires_at),
    items: { offset: query.items_offset, limit: query.items_limit, matching: page.matching, data: page.items.map(reportOf) },
  };
}
