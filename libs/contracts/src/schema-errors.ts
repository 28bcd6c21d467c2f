import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { FieldError } from './field-error.js';

/** Validator errors as one line per field problem (a union's branches become one "must be one of"). */
export function fieldErrorsOf(schema: TSchema, raw: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const allowed = new Map<string, string[]>();
  for (const e of Value.Errors(schema, raw)) {
    const field = fieldOf(e.instancePath, e.params);
    if (e.keyword === 'boolean' || e.keyword === 'anyOf') continue;
    if (e.keyword === 'const') {
      const values = allowed.get(field) ?? [];
      if (values.length === 0) allowed.set(field, values);
      values.push(String((e.params as { allowedValue: unknown }).allowedValue));
      continue;
    }
    errors.push({ field, message: e.message });
  }
  for (const [field, values] of allowed) errors.push({ field, message: `must be one of: ${values.join(', ')}` });
  return dedupe(errors);
}

function fieldOf(instancePath: string, params: unknown): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.');
  const p = params as { requiredProperties?: string[]; additionalProperties?: string[] } | undefined;
  const extra = p?.requiredProperties?.[0] ?? p?.additionalProperties?.[0];
  if (extra !== undefined) return path ? `${path}.${extra}` : extra;
  return path || '/';
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.field}\0${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
