import { describe, expect, it } from 'vitest';
import { ValidationError } from '@trackme/platform';
import { errorOf } from '@trackme/testkit';
import { queuedJob, triggerRollup } from '../src/metrics/trigger-rollup.js';

const now = new Date('2025-05-01T22:30:00.000Z');
const job = { id: 'job-1', actor: { subject: 'anonymous', ip: '10.0.0.7' }, now };

describe('triggerRollup', () => {
  it('given an interval and a period, asks for that period on behalf of the caller, stamped now', () => {
    expect(triggerRollup({ interval: 'week', period: '2025-04-28' }, job)).toEqual({
      job_id: 'job-1',
      interval: 'week',
      period: '2025-04-28',
      requested_at: '2025-05-01T22:30:00.000Z',
      actor: { subject: 'anonymous', ip: '10.0.0.7' },
    });
  });

  it('given no period, asks for the current period (no period in the command)', () => {
    expect(triggerRollup({ interval: 'day' }, job)).not.toHaveProperty('period');
  });

  it('accepts tomorrow (UTC): it is already today in zones ahead of UTC', () => {
    expect(triggerRollup({ interval: 'day', period: '2025-05-02' }, job).period).toBe('2025-05-02');
  });

  it('refuses a period more than one day ahead, naming period', () => {
    const refusal = errorOf(() => triggerRollup({ interval: 'month', period: '2025-05-03' }, job));
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).errors).toEqual([{ field: 'period', message: expect.stringContaining('2025-05-02') }]);
  });
});

describe('queuedJob', () => {
  it('reports the job as queued, without a period_start until the metrics service resolves it', () => {
    const command = triggerRollup({ interval: 'month', period: '2025-04-15' }, job);
    expect(queuedJob(command)).toEqual({ id: 'job-1', interval: 'month', status: 'queued', requested_at: '2025-05-01T22:30:00.000Z' });
  });
});
