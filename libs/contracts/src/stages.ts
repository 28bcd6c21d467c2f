import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import type { FieldError } from './field-error.js';

/**
 * The stage configuration file (STAGES_CONFIG), compatible with the older service's stages.yaml.
 * It is a contract shared by the gateway (which stages exist) and the clients service (which
 * moves are allowed); the rules that use it live in the clients service.
 */
export const StageSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9_]{1,64}$', description: 'Stable stage id used by the API' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    order: Type.Integer({ minimum: 0, description: 'Position in the process; next/prev move by order' }),
    transitions: Type.Array(Type.String(), { description: 'Stages this stage may move to explicitly' }),
    initial: Type.Optional(Type.Boolean({ description: 'Allowed as the stage of a new client' })),
    conversion: Type.Optional(Type.Boolean({ description: 'Entering this stage counts as a conversion' })),
  },
  { additionalProperties: false },
);

export const StagesFileSchema = Type.Object({ stages: Type.Array(StageSchema, { minItems: 1 }) }, { additionalProperties: false });

export type Stage = Static<typeof StageSchema>;

/** The validated process, indexed for the lookups the services make on every command. */
export interface StageProcess {
  /** stages sorted by order */
  stages: readonly Stage[];
  byId: ReadonlyMap<string, Stage>;
  /** stages allowed on create: those marked initial, or all when none is marked */
  initialIds: ReadonlySet<string>;
  conversionId: string;
}

export class StageConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid stage configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StageConfigError';
  }
}

/**
 * Validates a parsed stages document and lists every problem, not only the first: schema
 * problems of malformed stages and rule problems of the well-formed ones together.
 * As in the older service's file, `next` and `prev` in `transitions` name the neighbours by order.
 */
export function buildStageProcess(document: unknown, source = 'stages'): StageProcess {
  const problems: string[] = [];
  const list = (document as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(list)) {
    const schemaProblems = [...Value.Errors(StagesFileSchema, document)].map(
      (e) => `${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'document'}: ${e.message}`,
    );
    throw new StageConfigError(source, schemaProblems.length ? schemaProblems : ['document: must have a "stages" list']);
  }
  for (const key of Object.keys(document as object)) if (key !== 'stages') problems.push(`document: unknown field "${key}"`);
  if (list.length === 0) problems.push('stages: must list at least one stage');
  const stages: Stage[] = [];
  list.forEach((item, index) => {
    const errors = [...Value.Errors(StageSchema, item)].filter((e) => e.keyword !== 'boolean');
    if (errors.length === 0) {
      stages.push(item as Stage);
      return;
    }
    const at = (path: string) => `stages.${index}${path.replace(/\//g, '.')}`;
    for (const e of errors) {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
      if (e.keyword === 'additionalProperties' && extra) {
        for (const field of extra) problems.push(`${at(`${e.instancePath}/${field}`)}: unknown field`);
      } else {
        problems.push(`${at(e.instancePath)}: ${e.message}`);
      }
    }
  });

  const byId = new Map<string, Stage>();
  const orders = new Map<number, string>();
  for (const stage of stages) {
    if (byId.has(stage.id)) problems.push(`stage "${stage.id}" is declared twice`);
    byId.set(stage.id, stage);
    const sameOrder = orders.get(stage.order);
    if (sameOrder) problems.push(`stages "${sameOrder}" and "${stage.id}" have the same order ${stage.order}`);
    orders.set(stage.order, stage.id);
    if (stage.id === 'next' || stage.id === 'prev') problems.push(`stage id "${stage.id}" is reserved for relative moves`);
  }
  const sorted = [...stages].sort((a, b) => a.order - b.order);
  const resolved = sorted.map((stage, index) => ({
    ...stage,
    transitions: stage.transitions.flatMap((target) => {
      if (target === 'next') return sorted[index + 1] ? [sorted[index + 1]!.id] : [];
      if (target === 'prev') return sorted[index - 1] ? [sorted[index - 1]!.id] : [];
      return [target];
    }),
  }));
  for (const stage of resolved) {
    for (const target of stage.transitions) {
      if (!byId.has(target)) problems.push(`stage "${stage.id}" has a transition to unknown stage "${target}"`);
      if (target === stage.id) problems.push(`stage "${stage.id}" lists itself as a transition`);
    }
  }
  const conversions = resolved.filter((s) => s.conversion);
  if (conversions.length > 1) problems.push(`only one stage may be the conversion stage (got ${conversions.map((s) => s.id).join(', ')})`);
  if (problems.length > 0) throw new StageConfigError(source, problems);

  const marked = resolved.filter((s) => s.initial);
  return {
    stages: resolved,
    byId: new Map(resolved.map((s) => [s.id, s])),
    initialIds: new Set((marked.length > 0 ? marked : resolved).map((s) => s.id)),
    conversionId: conversions[0]?.id ?? resolved[resolved.length - 1]!.id,
  };
}

/** Reads and validates the YAML file at `path`; throws StageConfigError listing every problem. */
/**
 * The one check that a requested stage exists: the gateway makes it before publishing a command,
 * the clients service when it decides. `next`/`prev` count as known where `relative` allows them.
 */
export function unknownStage(process: StageProcess, stage: string, relative: boolean): FieldError | undefined {
  if (process.byId.has(stage) || (relative && (stage === 'next' || stage === 'prev'))) return undefined;
  return { field: 'stage', message: `unknown stage "${stage}"` };
}

export function loadStageProcess(path: string): StageProcess {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StageConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new StageConfigError(path, [`not valid YAML: ${(error as Error).message}`]);
  }
  return buildStageProcess(document, path);
}
