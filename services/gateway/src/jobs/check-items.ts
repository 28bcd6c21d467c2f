import { CreateClientBodySchema, fieldErrorsOf, normalizeEmail, unknownStage, type FieldError, type StageProcess } from '@trackme/contracts';
import { Value } from 'typebox/value';
import type { ItemOp, JobItem } from './job-model.js';

/**
 * Checks every item on its own, as POST /events does: one bad item never refuses its neighbours.
 * A valid item is pending (to be sent), a bad one failed with every problem named by field. An
 * email a previous item of the same request already has is refused here: the second would only
 * collide with the first.
 */
export function checkClientItems(
  raws: readonly unknown[],
  op: Extract<ItemOp, 'create' | 'upsert'>,
  process: StageProcess,
  clientIdOf: (index: number) => string,
  lineOf?: (index: number) => number,
): JobItem[] {
  const firstWithEmail = new Map<string, number>();
  return raws.map((raw, i) => {
    const base = { i, op, client_id: clientIdOf(i), ...(lineOf ? { line: lineOf(i) } : {}) };
    const errors = clientItemErrors(raw, process);
    if (errors.length > 0) return { ...base, status: 'failed', code: 'validation_failed', message: 'the item is not a valid client', errors };
    const fields = raw as Record<string, unknown>;
    const email = normalizeEmail(String(fields['email']));
    const first = firstWithEmail.get(email);
    if (first !== undefined) {
      const where = lineOf ? `line ${lineOf(first)}` : `item ${first}`;
      return { ...base, status: 'failed', code: 'duplicate_email', message: `the email repeats ${where}`, errors: [{ field: 'email', message: `repeats ${where}` }] };
    }
    firstWithEmail.set(email, i);
    return { ...base, fields, status: 'pending' };
  });
}

function clientItemErrors(raw: unknown, process: StageProcess): FieldError[] {
  if (!Value.Check(CreateClientBodySchema, raw)) return fieldErrorsOf(CreateClientBodySchema, raw);
  const stage = (raw as { stage?: string }).stage;
  const unknown = stage === undefined ? undefined : unknownStage(process, stage, false);
  return unknown ? [unknown] : [];
}
