import { describe, expect, it } from 'vitest';
import { buildStageProcess } from '@trackme/contracts';
import { auditJobFinished } from '../../src/jobs/audit-job.js';
import { checkClientItems } from '../../src/jobs/check-items.js';
import { finalStatus, progressOf } from '../../src/jobs/job-model.js';

const process = buildStageProcess({ stages: [{ id: 'lead', name: 'Lead', order: 1, initial: true, transitions: ['won'] }, { id: 'won', name: 'Won', order: 2, transitions: [] }] });

describe('checking the items of a batch or a file', () => {
  it('keeps valid items pending and fails each bad one with its own reasons', () => {
    const items = checkClientItems([{ name: 'A', email: 'a@example.com' }, { name: 'B', email: 'b@example.com', stage: 'nope' }, { email: 'c@example.com' }], 'create', process, (i) => `id-${i}`, (i) => i + 2);
    expect(items.map((item) => item.status)).toEqual(['pending', 'failed', 'failed']);
    expect(items[0]).toMatchObject({ client_id: 'id-0', line: 2, fields: { name: 'A' } });
    expect(items[1]!.errors).toEqual([{ field: 'stage', message: 'unknown stage "nope"' }]);
    expect(items[2]!.errors).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('refuses an email a previous line has, whatever its case, naming that line', () => {
    const items = checkClientItems([{ name: 'A', email: 'a@example.com' }, { name: 'A2', email: 'A@Example.com' }], 'upsert', process, String, (i) => i + 2);
    expect(items[1]).toMatchObject({ status: 'failed', code: 'duplicate_email', errors: [{ field: 'email', message: 'repeats line 2' }] });
  });
});

describe("a job's status and progress", () => {
  it('is succeeded only when every item succeeded, failed when none did, cancelled when asked', () => {
    expect(finalStatus({ succeeded: 3, refused: 0, failed: 0 }, 3, false)).toBe('succeeded');
    expect(finalStatus({ succeeded: 2, refused: 1, failed: 0 }, 3, false)).toBe('partially_failed');
    expect(finalStatus({ succeeded: 0, refused: 1, failed: 2 }, 3, false)).toBe('failed');
    expect(finalStatus({ succeeded: 3, refused: 0, failed: 0 }, 3, true)).toBe('cancelled');
  });

  it('gives the rate since the start and the time left at it', () => {
    const start = new Date('2026-12-01T10:00:00Z');
    expect(progressOf(50, 150, start, new Date('2026-12-01T10:00:10Z'))).toEqual({ rate: 5, eta_seconds: 20 });
    expect(progressOf(0, 150, undefined, start)).toEqual({ rate: 0, eta_seconds: null });
  });
});

describe("a job's audit line", () => {
  it('names who started the job, its filter and what came of it', () => {
    const lines: unknown[] = [];
    const job = { _id: 'j1', kind: 'bulk' as const, status: 'running' as const, requested_by: { subject: 'ann', role: 'admin', ip: '10.0.0.1' }, spec: { filter: { stage: 'lead' } }, total: 3, chunks: 1, created_at: new Date() };
    auditJobFinished({ info: (line: unknown) => lines.push(line) } as never, job, 'partially_failed', { succeeded: 2, refused: 1, failed: 0 });
    expect(lines).toEqual([
      { audit: expect.objectContaining({ event: 'bulk_job_finished', actor: job.requested_by, job_id: 'j1', spec: job.spec, status: 'partially_failed', total: 3, succeeded: 2, refused: 1 }) },
    ]);
  });
});
