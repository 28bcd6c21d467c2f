import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '@trackme/contracts';
import { AppError, RefusedError, ValidationError } from '../errors.js';
import { currentCorrelationId } from '../logging/context.js';

/** RFC 9457 problem details, with the stable error code and per-field errors. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  errors?: FieldError[];
  /** how many more errors were found than `errors` lists */
  more_errors?: number;
  correlation_id?: string;
}

/** A problem lists at most this many field errors; the rest are counted. */
export const MAX_REPORTED_ERRORS = 20;
/** Field names and messages are cut to this length: they may quote a caller's key. */
const MAX_ERROR_TEXT = 200;

const clip = (text: string) => (text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text);

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: string, detail?: string, errors?: FieldError[]): Problem {
  const listed = errors?.slice(0, MAX_REPORTED_ERRORS).map((e) => ({ ...e, field: clip(e.field), message: clip(e.message) }));
  const more = (errors?.length ?? 0) - (listed?.length ?? 0);
  return {
    type: `urn:trackme:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    ...(listed && listed.length > 0 ? { errors: listed } : {}),
    ...(more > 0 ? { more_errors: more } : {}),
  };
}

/** fastify's schema errors name the field as "/body/email" or "querystring/limit"; keep the field. */
function fieldOf(instancePath: string | undefined, params: Record<string, unknown> | undefined, context: string): string {
  const missing = params?.['missingProperty'] ?? (params?.['requiredProperties'] as string[] | undefined)?.join(',');
  const extra = params?.['additionalProperty'] ?? (params?.['additionalProperties'] as string[] | undefined)?.join(',');
  const base = (instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const named = missing ?? extra;
  const field = named ? [base, String(named)].filter(Boolean).join('.') : base;
  return field || context;
}

/** The one mapping from errors to HTTP responses for every trackme service. */
export function toProblem(error: FastifyError | Error): Problem {
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'request';
    const errors = fastifyError.validation.map((v) => ({
      field: fieldOf(v.instancePath, v.params as Record<string, unknown>, context),
      message: v.message ?? 'is invalid',
    }));
    return problem(400, 'validation_failed', `Invalid ${context}: ${summary(errors)}`, errors);
  }
  if (error instanceof ValidationError) return problem(400, error.code, clip(error.message), error.errors);
  if (error instanceof RefusedError) return problem(error.status, error.code, error.message, error.errors);
  if (error instanceof AppError) return problem(error.status, error.code, error.message);
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    // fastify's own client errors (bad JSON, body too large, bad content type) have safe messages
    return problem(status, (fastifyError.code ?? 'bad_request').toLowerCase(), error.message);
  }
  // never leak internals (stack, driver messages) in a 5xx
  return problem(500, 'internal_error', 'The server could not complete the request.');
}

/** The first errors as one line, for `detail`. */
function summary(errors: FieldError[]): string {
  const shown = errors.slice(0, MAX_REPORTED_ERRORS).map((e) => `${clip(e.field)} ${clip(e.message)}`);
  const more = errors.length - shown.length;
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, body: Problem): FastifyReply {
  const correlationId = currentCorrelationId() ?? request.id;
  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...body, instance: request.url, correlation_id: correlationId });
}
