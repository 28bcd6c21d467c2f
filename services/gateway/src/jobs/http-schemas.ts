import { Type } from 'typebox';
import { FieldErrorSchema } from '@trackme/contracts';

export const JobIdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Job id' });

export const JobItemReportSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'Position of the item in the job' }),
    line: Type.Optional(Type.Integer({ minimum: 1, description: 'Line of the imported file' })),
    client_id: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('refused'), Type.Literal('failed')], {
      description: 'succeeded: applied (or validated, in a dry run); refused: trackme said no (the reason is in code and message); failed: not valid, never sent',
    }),
    outcome: Type.Optional(Type.String({ description: 'created, changed, unchanged, deleted, or validated in a dry run' })),
    code: Type.Optional(Type.String({ description: 'Stable code of a refusal or failure' })),
    message: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
  },
  { $id: 'JobItemReport' },
);

export const JobSchema = Type.Object(
  {
    id: JobIdSchema,
    kind: Type.Union([Type.Literal('batch'), Type.Literal('bulk'), Type.Literal('import')]),
    status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('cancelled'), Type.Literal('succeeded'), Type.Literal('partially_failed'), Type.Literal('failed')], {
      description: 'partially_failed: done, some items refused or failed; failed: done, none succeeded',
    }),
    requested_by: Type.Object({ subject: Type.String(), role: Type.Optional(Type.String()) }),
    spec: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The filter and action of a bulk job, the options of an import' })),
    dry_run: Type.Boolean(),
    counts: Type.Object({
      total: Type.Integer({ minimum: 0 }),
      done: Type.Integer({ minimum: 0 }),
      succeeded: Type.Integer({ minimum: 0 }),
      refused: Type.Integer({ minimum: 0 }),
      failed: Type.Integer({ minimum: 0 }),
    }),
    rate: Type.Number({ minimum: 0, description: 'Items per second since the job started' }),
    eta_seconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Seconds left at that rate; null before any item is done' }),
    created_at: Type.String({ format: 'date-time' }),
    started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the job and its report are dropped (JOB_RETENTION_DAYS after it finished)' }),
    items: Type.Object({
      offset: Type.Integer({ minimum: 0 }),
      limit: Type.Integer({ minimum: 1 }),
      matching: Type.Integer({ minimum: 0, description: 'Items matching `items_status`, all pages together' }),
      data: Type.Array(JobItemReportSchema),
    }),
  },
  { $id: 'Job' },
);

export const JobAnswerSchema = Type.Object({ data: JobSchema }, { description: 'The job' });

export const JobQuerySchema = Type.Object(
  {
    items_offset: Type.Integer({ minimum: 0, default: 0, description: 'Items of the report to skip' }),
    items_limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100, description: 'Items of the report in this answer' }),
    items_status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('refused'), Type.Literal('failed')], { description: 'Only items of this status' })),
  },
  { additionalProperties: false },
);

export const JobAcceptedHeaders = { location: { type: 'string', description: 'The job: GET it for progress and the item report' } };
