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
  const converted = Value.Convert(schema, Value.Default(schema, raw));
  const problems: ConfigProblem[] = [];
  for (const error of Value.Errors(schema, converted)) {
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      for (const variable of missing) problems.push({ variable, message: 'is required but not set' });
      continue;
    }
    const variable = error.instancePath.replace(/^\//, '').split('/')[0] || '(root)';
    const shown = env[variable];
    problems.push({ variable, message: `${error.message} (got ${JSON.stringify(shown)})` });
  }
  if (problems.length > 0) throw new ConfigError(service, dedupe(problems));
  return converted as Static<S>;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.variable}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
