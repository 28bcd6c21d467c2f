import { Type } from 'typebox';

/** RFC 9457 problem details as documented in the OpenAPI document. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    correlation_id: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), { maxItems: 20, description: 'The first 20 problems, one per field' })),
    more_errors: Type.Optional(Type.Integer({ minimum: 1, description: 'How many problems were found beyond those listed' })),
  },
  { $id: 'Problem', description: 'application/problem+json' },
);

/** Problem answers as they are sent: `application/problem+json` (RFC 9457), not `application/json`. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: `Problem (${status})`, content: { 'application/problem+json': { schema: ProblemSchema } } }]),
  );

export const IdempotencyKeyHeaderSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Makes retries safe: the same key and body within 24 h get the first answer',
    }),
  ),
});

export const OperationAcceptedSchema = Type.Object(
  {
    data: Type.Object({
      operation_id: Type.String(),
      status: Type.Literal('pending'),
    }),
  },
  { description: 'Accepted: the write is queued; poll the Location for its result' },
);
