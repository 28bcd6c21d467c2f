import type { TObject, TSchema } from 'typebox';
import { ClientsConfigSchema } from '../../services/clients/src/config.js';
import { GatewayConfigSchema } from '../../services/gateway/src/config.js';
import { MetricsConfigSchema } from '../../services/metrics/src/config.js';
import { ReadConfigSchema } from '../../services/read/src/config.js';

export const SERVICE_SCHEMAS: Record<string, TObject> = {
  gateway: GatewayConfigSchema,
  clients: ClientsConfigSchema,
  read: ReadConfigSchema,
  metrics: MetricsConfigSchema,
};

interface Row {
  variable: string;
  services: string[];
  required: boolean;
  defaults: Set<string>;
  description: string;
}

/** Every variable of every service, in first-seen order. */
export function configRows(): Row[] {
  const rows = new Map<string, Row>();
  for (const [service, schema] of Object.entries(SERVICE_SCHEMAS)) {
    const required = new Set(schema.required ?? []);
    for (const [variable, property] of Object.entries(schema.properties) as Array<[string, TSchema & { default?: unknown; description?: string }]>) {
      const row = rows.get(variable) ?? { variable, services: [], required: false, defaults: new Set<string>(), description: property.description ?? '' };
      row.services.push(service);
      row.required ||= required.has(variable) && property.default === undefined;
      if (property.default !== undefined) row.defaults.add(`\`${String(property.default) || '(empty)'}\``);
      rows.set(variable, row);
    }
  }
  return [...rows.values()];
}

/** The README's configuration table, generated from the services' config schemas. */
export function renderConfigTable(): string {
  const lines = ['| variable | services | default | description |', '|---|---|---|---|'];
  for (const row of configRows()) {
    const services = row.services.length === Object.keys(SERVICE_SCHEMAS).length ? 'all' : row.services.join(', ');
    const fallback = row.required ? '**required**' : '—';
    const defaults = row.defaults.size ? [...row.defaults].join(' / ') : fallback;
    lines.push(`| \`${row.variable}\` | ${services} | ${defaults} | ${row.description} |`);
  }
  return lines.join('\n');
}

export const TABLE_START = '<!-- config-table:start (npm run config:doc) -->';
export const TABLE_END = '<!-- config-table:end -->';

/** Replaces the table between the markers in a README text. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('README has no config table markers');
  return `${readme.slice(0, start + TABLE_START.length)}\n${renderConfigTable()}\n${readme.slice(end)}`;
}
