import { fileURLToPath } from 'node:url';
import { buildStageProcess, loadStageProcess } from '@trackme/contracts';
import { IllegalTransitionError, ValidationError } from '@trackme/platform';
import { describe, expect, it } from 'vitest';
import { resolveImportedStage, resolveInitialStage, resolveStageMove } from '../../src/clients/stage-rules.js';
import { errorOf } from '@trackme/testkit';

const stages = loadStageProcess(fileURLToPath(new URL('../../../../config/stages.yaml', import.meta.url)));
const ids = stages.stages.map((s) => s.id);
const orderOf = (id: string) => stages.byId.get(id)!.order;

/** Every explicit move the default file allows: [from, to, rollback]. */
const allowedMoves: Array<[string, string, boolean]> = stages.stages.flatMap((from) =>
  from.transitions.map((to): [string, string, boolean] => [from.id, to, orderOf(to) < from.order]),
);
/** Every other pair of distinct stages. */
const refusedMoves: Array<[string, string]> = ids.flatMap((from) =>
  ids.filter((to) => to !== from && !stages.byId.get(from)!.transitions.includes(to)).map((to): [string, string] => [from, to]),
);

describe('moving a client between stages of the default process', () => {
  it('covers each neighbour pair in both directions and refuses the rest', () => {
    expect(allowedMoves).toHaveLength(2 * (ids.length - 1));
    expect(refusedMoves).toHaveLength(ids.length * (ids.length - 1) - allowedMoves.length);
  });

  it.each(allowedMoves)('a client in %s may move to %s (rollback: %s)', (from, to, rollback) => {
    expect(resolveStageMove(stages, from, to)).toEqual({ kind: 'move', from, to, rollback });
  });

  it.each(refusedMoves)('a client in %s may not jump to %s', (from, to) => {
    const error = errorOf(() => resolveStageMove(stages, from, to));
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error.message).toContain(`"${from}"`);
    expect(error.message).toContain(`"${to}"`);
  });

  it('counts a move back to the previous stage as a rollback and a move forward as not', () => {
    expect(resolveStageMove(stages, 'data_consent', 'product_selection')).toMatchObject({ rollback: true });
    expect(resolveStageMove(stages, 'data_consent', 'form_filling')).toMatchObject({ rollback: false });
  });

  it('"next" from registration goes to product_selection', () => {
    expect(resolveStageMove(stages, 'registration', 'next')).toEqual({
      kind: 'move',
      from: 'registration',
      to: 'product_selection',
      rollback: false,
    });
  });

  it('"prev" from completed goes back to payment_waiting as a rollback', () => {
    expect(resolveStageMove(stages, 'completed', 'prev')).toEqual({
      kind: 'move',
      from: 'completed',
      to: 'payment_waiting',
      rollback: true,
    });
  });

  it.each(ids.slice(1).map((id, index): [string, string] => [ids[index]!, id]))('"next" from %s goes to %s', (from, to) => {
    expect(resolveStageMove(stages, from, 'next')).toEqual({ kind: 'move', from, to, rollback: false });
    expect(resolveStageMove(stages, to, 'prev')).toEqual({ kind: 'move', from: to, to: from, rollback: true });
  });

  it('refuses "prev" from the first stage', () => {
    const error = errorOf(() => resolveStageMove(stages, 'registration', 'prev'));
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error.message).toContain('registration');
  });

  it('refuses "next" from the last stage', () => {
    const error = errorOf(() => resolveStageMove(stages, 'completed', 'next'));
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error.message).toContain('completed');
  });

  it.each(ids)('asking a client in %s to move to the stage it is in is a no-op', (id) => {
    expect(resolveStageMove(stages, id, id)).toEqual({ kind: 'stay', stage: id });
  });

  it('refuses an unknown stage as invalid input on the stage field', () => {
    const error = errorOf(() => resolveStageMove(stages, 'registration', 'onboarded'));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([{ field: 'stage', message: expect.stringContaining('onboarded') }]);
  });

  describe('a client in a stage that is no longer configured', () => {
    it.each(ids)('may move to %s', (to) => {
      expect(resolveStageMove(stages, 'legacy_review', to)).toEqual({ kind: 'move', from: 'legacy_review', to, rollback: false });
    });

    it.each(['next', 'prev'])('may not move "%s", since the stage has no place in the order', (relative) => {
      const error = errorOf(() => resolveStageMove(stages, 'legacy_review', relative));
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error.message).toContain('legacy_review');
    });

    it('is still refused an unknown target', () => {
      expect(errorOf(() => resolveStageMove(stages, 'legacy_review', 'onboarded'))).toBeInstanceOf(ValidationError);
    });
  });
});

describe('the stage of a new client', () => {
  it('is the first stage by order when none is requested', () => {
    expect(resolveInitialStage(stages, undefined)).toBe('registration');
  });

  it.each(ids)('may be %s, since the default file marks no stage initial', (id) => {
    expect(resolveInitialStage(stages, id)).toBe(id);
  });

  it.each(['next', 'prev'])('may not be "%s"', (relative) => {
    const error = errorOf(() => resolveInitialStage(stages, relative));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([{ field: 'stage', message: expect.stringContaining(relative) }]);
  });

  it('may not be an unknown stage', () => {
    const error = errorOf(() => resolveInitialStage(stages, 'onboarded'));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([{ field: 'stage', message: expect.stringContaining('onboarded') }]);
  });

  describe('when some stages are marked initial', () => {
    const marked = buildStageProcess({
      stages: [
        { id: 'lead', name: 'Lead', order: 1, transitions: ['signup'] },
        { id: 'signup', name: 'Sign-up', order: 2, transitions: ['lead', 'imported'], initial: true },
        { id: 'imported', name: 'Imported', order: 3, transitions: ['signup'], initial: true },
      ],
    });

    it('defaults to the first marked stage by order', () => {
      expect(resolveInitialStage(marked, undefined)).toBe('signup');
    });

    it.each(['signup', 'imported'])('accepts the marked stage %s', (id) => {
      expect(resolveInitialStage(marked, id)).toBe(id);
    });

    it('refuses an unmarked stage, telling which stages are allowed', () => {
      const error = errorOf(() => resolveInitialStage(marked, 'lead'));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain('lead');
      const [problem] = (error as ValidationError).errors;
      expect(problem?.field).toBe('stage');
      expect(problem?.message).toContain('signup');
      expect(problem?.message).toContain('imported');
    });
  });
});

describe('what a refused move tells the caller', () => {
  // These texts reach the caller as the problem's detail, so they are part of what a user reads.
  it('names the end of the process when there is no next or previous stage', () => {
    expect(errorOf(() => resolveStageMove(stages, 'completed', 'next')).message).toBe('there is no next stage after "completed"');
    expect(errorOf(() => resolveStageMove(stages, 'registration', 'prev')).message).toBe('there is no previous stage before "registration"');
  });

  it('lists the stages a client may move to', () => {
    expect(errorOf(() => resolveStageMove(stages, 'registration', 'completed')).message).toBe(
      'moving from "registration" to "completed" is not allowed; allowed: product_selection',
    );
    expect(errorOf(() => resolveStageMove(stages, 'data_consent', 'registration')).message).toBe(
      'moving from "data_consent" to "registration" is not allowed; allowed: product_selection, form_filling',
    );
  });

  it('says "none" for a stage that allows no move', () => {
    const deadEnd = buildStageProcess({
      stages: [
        { id: 'open', name: 'Open', order: 1, transitions: ['closed'] },
        { id: 'closed', name: 'Closed', order: 2, transitions: [] },
      ],
    });
    expect(errorOf(() => resolveStageMove(deadEnd, 'closed', 'open')).message).toBe(
      'moving from "closed" to "open" is not allowed; allowed: none',
    );
  });

  it('tells a new client that a relative stage only applies to existing clients', () => {
    const error = errorOf(() => resolveInitialStage(stages, 'next')) as ValidationError;
    expect(error.message).toBe('a new client needs an explicit stage');
    expect(error.errors).toEqual([{ field: 'stage', message: '"next" only applies to existing clients' }]);
  });

  it('lists the stages a new client may start in, separated by commas', () => {
    const marked = buildStageProcess({
      stages: [
        { id: 'lead', name: 'Lead', order: 1, transitions: ['signup'] },
        { id: 'signup', name: 'Sign-up', order: 2, transitions: ['lead'], initial: true },
        { id: 'imported', name: 'Imported', order: 3, transitions: ['signup'], initial: true },
      ],
    });
    const error = errorOf(() => resolveInitialStage(marked, 'lead')) as ValidationError;
    expect(error.message).toBe('stage "lead" is not allowed for a new client');
    expect(error.errors).toEqual([{ field: 'stage', message: 'allowed on create: signup, imported' }]);
  });
});

describe('the stage of a client brought over from the older service', () => {
  it('is the first initial stage when the older service had none', () => {
    expect(resolveImportedStage(stages, undefined)).toBe('registration');
  });

  it('may be any configured stage', () => {
    expect(resolveImportedStage(stages, 'completed')).toBe('completed');
  });

  it('may not be an unknown stage, and says so on the stage field', () => {
    const error = errorOf(() => resolveImportedStage(stages, 'onboarded')) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('unknown stage "onboarded"');
    expect(error.errors).toEqual([{ field: 'stage', message: 'unknown stage "onboarded"' }]);
  });

  it('may not be "next" or "prev"', () => {
    expect(errorOf(() => resolveImportedStage(stages, 'next'))).toBeInstanceOf(ValidationError);
  });
});
