import type { FieldError, Refusal } from '@trackme/contracts';

/**
 * Domain and infrastructure errors with a stable code. Exactly one edge per transport maps them:
 * HTTP → application/problem+json (http/problem.ts), Kafka → reply or DLQ record.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class ValidationError extends AppError {
  readonly code = 'validation_failed';
  readonly status = 400;
  readonly errors: FieldError[];
  constructor(message: string, errors: FieldError[] = []) {
    super(message, { errors });
    this.errors = errors;
  }
}

export class NotFoundError extends AppError {
  readonly code = 'not_found';
  readonly status = 404;
}

/** No valid credentials: answered 401 with `challenge` as the WWW-Authenticate header (RFC 6750). */
export class UnauthorizedError extends AppError {
  readonly code = 'unauthorized';
  readonly status = 401;
  constructor(
    message: string,
    readonly challenge: string,
  ) {
    super(message);
  }
}

/** Valid credentials without the right to do this. */
export class ForbiddenError extends AppError {
  readonly code = 'forbidden';
  readonly status = 403;
}

/** Too many requests from one caller: answered 429 with Retry-After. */
export class RateLimitedError extends AppError {
  readonly code = 'rate_limited';
  readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The path exists but not with this method: 405 with the methods it has in `Allow`. */
export class MethodNotAllowedError extends AppError {
  readonly code = 'method_not_allowed';
  readonly status = 405;
  constructor(
    message: string,
    readonly allow: string[],
  ) {
    super(message);
  }
}

export class ConflictError extends AppError {
  readonly code: string;
  readonly status = 409;
  constructor(message: string, code = 'conflict', details?: Record<string, unknown>) {
    super(message, details);
    this.code = code;
  }
}

export class IllegalTransitionError extends AppError {
  readonly code = 'illegal_transition';
  readonly status = 400;
}

/** A dependency (Mongo, Kafka, Redis) is unavailable: retry later, never dead-letter. */
export class DependencyUnavailableError extends AppError {
  readonly code = 'dependency_unavailable';
  readonly status = 503;
}

/** A message that can never be processed (bad JSON, schema, unknown type): dead-letter it at once. */
export class PoisonMessageError extends AppError {
  readonly code = 'poison_message';
  readonly status = 400;
  readonly reason: string;
  /**
   * The error lines of its dead-letter record, when they are not the message followed by the
   * details' `errors` (kafka/rejections.ts): e.g. only the field errors of an invalid event.
   */
  readonly lines: string[] | undefined;
  constructor(reason: string, message: string, details?: Record<string, unknown>, lines?: string[]) {
    super(message, details);
    this.reason = reason;
    this.lines = lines;
  }
}

/** The HTTP status of each refusal reason: the one place a domain refusal meets HTTP. */
const REFUSAL_STATUS: Record<Refusal['reason'], number> = { invalid: 400, not_found: 404, conflict: 409 };

/** A command another service refused, as its reply said: answered with the refusal's code and field errors. */
export class RefusedError extends AppError {
  readonly code: string;
  readonly status: number;
  readonly errors: FieldError[];
  constructor(refusal: Refusal) {
    super(refusal.message);
    this.code = refusal.code;
    this.status = REFUSAL_STATUS[refusal.reason];
    this.errors = refusal.errors ?? [];
  }
}

/** A domain error as a refusal a reply can carry; undefined for anything that is not a decided refusal (retried). */
export function refusalOf(error: unknown): Refusal | undefined {
  const reason =
    error instanceof ValidationError || error instanceof IllegalTransitionError
      ? 'invalid'
      : error instanceof NotFoundError
        ? 'not_found'
        : error instanceof ConflictError
          ? 'conflict'
          : undefined;
  if (!reason) return undefined;
  const errors = error instanceof ValidationError ? error.errors : [];
  return { reason, code: (error as AppError).code, message: (error as AppError).message, ...(errors.length > 0 ? { errors } : {}) };
}
