import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats is CommonJS with a default export
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const common: Options = { useDefaults: true, removeAdditional: false, strict: false };

/**
 * A value with more nodes than this that fails validation is reported with its first error only.
 * Listing every error of a large body costs time and memory in proportion to the body (a 255 KB
 * body of empty contracts made 174,001 errors and a 25 MB answer), so the full check runs only on
 * values small enough for that to stay cheap.
 */
export const FULL_REPORT_MAX_NODES = 2_000;

/**
 * Request validation for every service. Bodies are validated as sent: no type coercion (a string
 * "true" is not a boolean) and unknown properties are errors, not silently dropped, so a caller
 * learns which field it got wrong. Query strings, params and headers are text, so they are coerced.
 *
 * Each schema is compiled twice: a check that stops at the first error decides, and only a small
 * value that failed it is checked again for every error, to report them all at once.
 */
export function installValidation(app: FastifyInstance): void {
  const make = (coerceTypes: Options['coerceTypes'], allErrors: boolean) => addFormats(new Ajv({ ...common, coerceTypes, allErrors }));
  const body = { first: make(false, false), all: make(false, true) };
  const text = { first: make('array', false), all: make('array', true) };
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? body : text;
    return reportingValidator(ajv.first.compile(schema), ajv.all.compile(schema));
  });
}

type Reporting = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

function reportingValidator(first: ValidateFunction, all: ValidateFunction): Reporting {
  const validate: Reporting = (data) => {
    if (first(data)) return true;
    validate.errors = nodesAtMost(data, FULL_REPORT_MAX_NODES) && !all(data) && all.errors ? all.errors : first.errors;
    return false;
  };
  return validate;
}

/** Whether `value` holds at most `max` values (objects, arrays and leaves), counted without recursion. */
export function nodesAtMost(value: unknown, max: number): boolean {
  const pending: unknown[] = [value];
  let seen = 0;
  while (pending.length > 0) {
    const next = pending.pop();
    seen += 1;
    if (seen > max) return false;
    if (next !== null && typeof next === 'object') {
      for (const child of Object.values(next)) pending.push(child);
      if (pending.length > max) return false;
    }
  }
  return true;
}
