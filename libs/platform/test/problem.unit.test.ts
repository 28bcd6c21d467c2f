import { describe, expect, it } from 'vitest';
import type { FastifyError } from 'fastify';
import { ConflictError, IllegalTransitionError, NotFoundError, toProblem, ValidationError } from '../src/index.js';

describe('toProblem maps errors to RFC 9457 bodies', () => {
  it('names the field of a request schema error', () => {
    const error = Object.assign(new Error('body/email must match format "email"'), {
      validation: [{ instancePath: '/email', params: { format: 'email' }, message: 'must match format "email"' }],
      validationContext: 'body',
    }) as unknown as FastifyError;
    const body = toProblem(error);
    expect(body).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ field: 'email', message: 'must match format "email"' }] });
  });

  it('names a missing required property', () => {
    const error = Object.assign(new Error('x'), {
      validation: [{ instancePath: '', params: { missingProperty: 'name' }, message: "must have required property 'name'" }],
      validationContext: 'body',
    }) as unknown as FastifyError;
    expect(toProblem(error).errors).toEqual([{ field: 'name', message: "must have required property 'name'" }]);
  });

  it.each([
    [new ValidationError('bad', [{ field: 'stage', message: 'unknown' }]), 400, 'validation_failed'],
    [new NotFoundError('no client'), 404, 'not_found'],
    [new ConflictError('email taken', 'email_taken'), 409, 'email_taken'],
    [new IllegalTransitionError('no'), 400, 'illegal_transition'],
  ])('maps %s to its status and code', (error, status, code) => {
    expect(toProblem(error)).toMatchObject({ status, code, type: `urn:trackme:problem:${code}` });
  });

  it('hides the message of unexpected errors', () => {
    const body = toProblem(new Error('MongoServerError: connection pool closed at 10.0.0.5'));
    expect(body).toMatchObject({ status: 500, code: 'internal_error' });
    expect(JSON.stringify(body)).not.toContain('10.0.0.5');
  });

  it("keeps fastify's own client errors (e.g. body too large) as 4xx", () => {
    const error = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(toProblem(error)).toMatchObject({ status: 413, code: 'fst_err_ctp_body_too_large' });
  });
});
