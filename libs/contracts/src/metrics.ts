import { Type, type Static } from 'typebox';
import { ActorSchema } from './commands.js';

/** Metric periods (docs/metrics.md): local days, ISO weeks and calendar months in METRICS_TZ. */
export const METRIC_INTERVALS = ['day', 'week', 'month'] as const;
export type MetricInterval = (typeof METRIC_INTERVALS)[number];
// Unsafe keeps the union's JSON schema and gives it the literal type a mapped array loses
export const MetricIntervalSchema = Type.Unsafe<MetricInterval>(
  Type.Union(
    METRIC_INTERVALS.map((i) => Type.Literal(i)),
    { description: 'Period length: day, week (ISO, Monday start) or month' },
  ),
);

/** Every metric type a rollup writes; definitions in docs/metrics.md. */
export const METRIC_TYPES = [
  'dau',
  'wau',
  'mau',
  'stickiness',
  'new-clients',
  'clients-per-stage',
  'status-updates',
  'transitions',
  'rollback-count',
  'conversion',
  'source-conversion',
  'channel-conversion',
  'funnel',
  'stage-duration',
  'total-duration',
  'dropout',
  'app-install-rate',
  'autopayment-rate',
] as const;
export type MetricType = (typeof METRIC_TYPES)[number];
export const MetricTypeSchema = Type.Unsafe<MetricType>(
  Type.Union(
    METRIC_TYPES.map((t) => Type.Literal(t)),
    { description: 'Metric type (see docs/metrics.md)' },
  ),
);

const PeriodDate = (description: string) => Type.String({ format: 'date', description });

/** One stored figure of a rollup; `id`, `created_at` and `metadata` are the older service's names. */
export const MetricRowSchema = Type.Object(
  {
    id: Type.String({ description: 'Stable: the same interval, period, type and labels always have this id' }),
    type: MetricTypeSchema,
    value: Type.Number(),
    interval: MetricIntervalSchema,
    period_start: PeriodDate('Local date the period starts on, in METRICS_TZ'),
    labels: Type.Record(Type.String(), Type.String()),
    metadata: Type.Record(Type.String(), Type.String(), { description: 'The labels again, under the older service\'s name' }),
    calculated_at: Type.String({ format: 'date-time' }),
    created_at: Type.String({ format: 'date-time', description: 'When the figure was calculated (calculated_at, under the older service\'s name)' }),
  },
  { additionalProperties: false, $id: 'MetricRow' },
);
export type MetricRow = Static<typeof MetricRowSchema>;

export const METRICS_PAGE_MAX = 1000;
/** The widest range one query may span, in periods of its interval. */
export const METRICS_QUERY_MAX_PERIODS = 400;

/** GET /metrics: stored rollup rows, oldest period first. */
export const MetricsQuerySchema = Type.Object(
  {
    type: Type.Optional(MetricTypeSchema),
    interval: Type.Optional(MetricIntervalSchema),
    from: Type.Optional(
      PeriodDate(
        `First period to include: the one containing this date (default: 30 periods before \`to\`). ` +
          `A range spans at most ${METRICS_QUERY_MAX_PERIODS} periods; a wider one is refused with 400.`,
      ),
    ),
    to: Type.Optional(PeriodDate('Last period to include: the one containing this date (default: the current one)')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: METRICS_PAGE_MAX, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false },
);
export type MetricsQuery = Static<typeof MetricsQuerySchema>;

export const MetricsPageSchema = Type.Object(
  {
    data: Type.Array(MetricRowSchema),
    meta: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }, { additionalProperties: false }),
  },
  { additionalProperties: false, $id: 'MetricsPage' },
);

/** GET|POST /metrics/calculate */
export const CalculateQuerySchema = Type.Object(
  {
    interval: MetricIntervalSchema,
    period: Type.Optional(PeriodDate('Recompute the period containing this date (default: the current period, to date); at most one day ahead, or 400')),
  },
  { additionalProperties: false },
);
export type CalculateQuery = Static<typeof CalculateQuerySchema>;

export const ROLLUP_JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

/** A requested rollup, as GET /metrics/jobs/{id} shows it. */
export const RollupJobSchema = Type.Object(
  {
    id: Type.String(),
    interval: MetricIntervalSchema,
    period_start: Type.Optional(PeriodDate('The period computed')),
    status: Type.Unsafe<(typeof ROLLUP_JOB_STATUSES)[number]>(Type.Union(ROLLUP_JOB_STATUSES.map((s) => Type.Literal(s)))),
    requested_at: Type.String({ format: 'date-time' }),
    started_at: Type.Optional(Type.String({ format: 'date-time' })),
    finished_at: Type.Optional(Type.String({ format: 'date-time' })),
    rows: Type.Optional(Type.Integer({ minimum: 0, description: 'Rows written' })),
    error: Type.Optional(Type.String()),
  },
  { additionalProperties: false, $id: 'RollupJob' },
);
export type RollupJob = Static<typeof RollupJobSchema>;

/** On trackme.metrics-commands (envelope type `TriggerRollup`, envelope id = job id). */
export const TRIGGER_ROLLUP_TYPE = 'TriggerRollup';
export const TriggerRollupCommandSchema = Type.Object(
  {
    job_id: Type.String({ minLength: 1, maxLength: 64 }),
    interval: MetricIntervalSchema,
    /** a date inside the period to compute; absent: the current period, to date */
    period: Type.Optional(Type.String({ format: 'date' })),
    requested_at: Type.String({ format: 'date-time' }),
    actor: ActorSchema,
  },
  { additionalProperties: false },
);
export type TriggerRollupCommand = Static<typeof TriggerRollupCommandSchema>;

/** The seed's answer to GET /metrics/calculate, spelled as its clients match on it. */
export const TRIGGERED_MESSAGE = 'triggerred success';
