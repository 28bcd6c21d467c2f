import { unknownStage, type StageProcess } from '@trackme/contracts';
import { IllegalTransitionError, ValidationError } from '@trackme/platform';

export type StageMove = { kind: 'stay'; stage: string } | { kind: 'move'; from: string; to: string; rollback: boolean };

const RELATIVE = new Set(['next', 'prev']);

/**
 * Where a requested stage takes a client now in `current`. Explicit targets must be listed in the
 * current stage's transitions; "next"/"prev" move by order; the current stage is a no-op; a move to
 * a lower order is a rollback. A client whose stage was removed from the configuration may move to
 * any configured stage, so it is never stranded.
 */
export function resolveStageMove(process: StageProcess, current: string, requested: string): StageMove {
  const from = process.byId.get(current);
  if (RELATIVE.has(requested)) {
    if (!from) throw new IllegalTransitionError(`stage "${current}" is no longer configured; move to an explicit stage`);
    const index = process.stages.indexOf(from);
    const target = process.stages[requested === 'next' ? index + 1 : index - 1];
    if (!target) throw new IllegalTransitionError(`there is no ${requested === 'next' ? 'next stage after' : 'previous stage before'} "${current}"`);
    return { kind: 'move', from: current, to: target.id, rollback: requested === 'prev' };
  }
  const unknown = unknownStage(process, requested, false);
  if (unknown) throw new ValidationError(unknown.message, [unknown]);
  const to = process.byId.get(requested)!;
  if (requested === current) return { kind: 'stay', stage: current };
  if (!from) return { kind: 'move', from: current, to: to.id, rollback: false };
  if (!from.transitions.includes(to.id)) {
    throw new IllegalTransitionError(
      `moving from "${current}" to "${requested}" is not allowed; allowed: ${from.transitions.join(', ') || 'none'}`,
    );
  }
  return { kind: 'move', from: current, to: to.id, rollback: to.order < from.order };
}

/** The stage of a client brought over from another system: any configured stage, since its moves happened there. */
export function resolveImportedStage(process: StageProcess, requested: string | undefined): string {
  if (requested === undefined) return resolveInitialStage(process, undefined);
  if (!process.byId.has(requested)) {
    throw new ValidationError(`unknown stage "${requested}"`, [{ field: 'stage', message: `unknown stage "${requested}"` }]);
  }
  return requested;
}

/** The stage of a new client: the requested one if allowed on create, else the first initial stage. */
export function resolveInitialStage(process: StageProcess, requested: string | undefined): string {
  if (requested === undefined) return process.stages.find((s) => process.initialIds.has(s.id))!.id;
  if (RELATIVE.has(requested)) {
    throw new ValidationError('a new client needs an explicit stage', [{ field: 'stage', message: `"${requested}" only applies to existing clients` }]);
  }
  const unknown = unknownStage(process, requested, false);
  if (unknown) throw new ValidationError(unknown.message, [unknown]);
  if (!process.initialIds.has(requested)) {
    throw new ValidationError(`stage "${requested}" is not allowed for a new client`, [
      { field: 'stage', message: `allowed on create: ${[...process.initialIds].join(', ')}` },
    ]);
  }
  return requested;
}
