import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { METRICS_QUERY_MAX_PERIODS, MetricsQuerySchema, type MetricInterval } from '@trackme/contracts';
import { NotFoundError, ValidationError } from '@trackme/platform';
import { dayOfDate, periodDays, type Calendar } from '../periods.js';
import type { RollupJobs } from '../rollup/rollup-jobs.js';
import type { Rollups } from '../rollup/rollups.js';

/** How many periods back a query without `from` reaches. */
const DEFAULT_PERIODS = 30;

export interface MetricsRoutesOptions {
  rollups: Rollups;
  jobs: RollupJobs;
  calendar: Calendar;
  clock: () => Date;
}

/** Internal API used by the gateway: bodies are already in the public shape. */
export const internalMetricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, { rollups, jobs, calendar, clock }) => {
  app.get('/internal/metrics', { schema: { querystring: MetricsQuerySchema } }, async (request) => {
    const { type, interval = 'day', limit = 100, offset = 0 } = request.query;
    const toDay = request.query.to ? dayOfDate(request.query.to) : calendar.dayNumber(clock().getTime());
    if (toDay === undefined) throw new ValidationError('invalid query', [{ field: 'to', message: 'must be a calendar date' }]);
    const fromDay = request.query.from ? dayOfDate(request.query.from) : stepBack(interval, toDay, DEFAULT_PERIODS - 1);
    if (fromDay === undefined) throw new ValidationError('invalid query', [{ field: 'from', message: 'must be a calendar date' }]);
    if (fromDay > toDay) throw new ValidationError('invalid query', [{ field: 'from', message: 'must not be after `to`' }]);
    const periods = calendar.periodsBetween(interval, fromDay, toDay);
    if (periods.length > METRICS_QUERY_MAX_PERIODS) {
      throw new ValidationError('invalid query', [{ field: 'from', message: `the range may span at most ${METRICS_QUERY_MAX_PERIODS} periods` }]);
    }
    const rows = await rollups.rows(periods, type);
    return { data: rows.slice(offset, offset + limit), meta: { total: rows.length, limit, offset } };
  });

  app.get(
    '/internal/metrics/jobs/:id',
    { schema: { params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9:_-]{1,100}$' }) }) } },
    async (request) => {
      const job = await jobs.get(request.params.id);
      if (!job) throw new NotFoundError(`rollup job ${request.params.id} not found (a job appears once the metrics service picked it up)`);
      return { data: job };
    },
  );
};

/** The first day of the period `count` periods before the one holding `day`. */
function stepBack(interval: MetricInterval, day: number, count: number): number {
  let first = periodDays(interval, day).first;
  for (let i = 0; i < count; i += 1) first = periodDays(interval, first - 1).first;
  return first;
}
