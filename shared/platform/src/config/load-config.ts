import type { Static, TObject } from 'typebox';
import { Value } from 'typebox/value';

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
  const required = new Set(schema.required ?? []);
  for (const [variable, propertySchema] of Object.entries(schema.properties)) {
    const value = converted[variable];
    if (value === undefined) {
      if (required.has(variable)) problems.push({ variable, message: 'is required but not set' });
      continue;
    }
    const [first] = Value.Errors(propertySchema, value);
    if (first) problems.push({ variable, message: `${first.message} (got ${JSON.stringify(env[variable])})` });
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
  return converted as Static<S>;
}
