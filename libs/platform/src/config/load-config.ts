import type { Static, TObject, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { backendConfigProblems } from './backend-checks.js';

/** One bad or missing variable, named so an operator can fix it without reading code. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(service: string, problems: ConfigProblem[]) {
    super(
      `${service}: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Validates the environment against a service's schema once, at boot, and returns a typed,
 * defaulted, converted object. Every problem is reported at once, not the first one only.
 * Empty strings count as unset so `PORT=` in an .env file falls back to the default.
 * Combinations of the common backend settings (Kafka SASL/TLS, Redis and Mongo TLS files) are
 * checked after each variable, so a half-configured backend stops the service at start too.
 */
export function loadConfig<S extends TObject>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Static<S> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Convert(schema, Value.Default(schema, raw)) as Record<string, unknown>;
  // each variable is checked on its own so one bad value never hides another
  const problems: ConfigProblem[] = [];
  const valid: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [variable, propertySchema] of Object.entries(schema.properties) as Array<[string, TSchema & { writeOnly?: boolean }]>) {
    const value = converted[variable];
    if (value === undefined) {
      if (required.has(variable)) problems.push({ variable, message: 'is required but not set' });
      continue;
    }
    const [first] = Value.Errors(propertySchema, value);
    if (first) problems.push({ variable, message: `${first.message} (got ${shown(env[variable], propertySchema.writeOnly === true)})` });
    else valid[variable] = value;
  }
  // a variable already reported as invalid is not reported again for what it would have combined with
  const reported = new Set(problems.map((p) => p.variable));
  problems.push(...backendConfigProblems(valid).filter((p) => !reported.has(p.variable)));
  if (problems.length > 0) throw new ConfigError(service, problems);
  return converted as Static<S>;
}

/** A rejected value as the problem shows it: never a secret, nor the password inside a URL. */
function shown(value: string | undefined, secret: boolean): string {
  if (secret) return '(hidden)';
  return JSON.stringify(value?.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@]*@/i, '$1:***@'));
}
