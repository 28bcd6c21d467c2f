import { Type, type Static } from 'typebox';

/** One problem with one field of a request or a message: HTTP problems, activity rejections, refusals. */
export const FieldErrorSchema = Type.Object(
  {
    /** JSON pointer or parameter name, e.g. `email`, `contracts.0.id` or `limit` */
    field: Type.String(),
    message: Type.String(),
  },
  { additionalProperties: false },
);
export type FieldError = Static<typeof FieldErrorSchema>;
