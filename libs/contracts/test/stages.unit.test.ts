import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildStageProcess, loadStageProcess, StageConfigError } from '../src/index.js';

const DEFAULT_FILE = fileURLToPath(new URL('../../../config/stages.yaml', import.meta.url));

/** The seed's 12 stages in process order (docs/adr/0007-stage-process-file.md). */
const DEFAULT_ORDER = [
  'registration',
  'product_selection',
  'data_consent',
  'form_filling',
  'participants_specification',
  'terms_agreement',
  'client_questionnaire',
  'approval_waiting',
  'modifications',
  'document_signing',
  'payment_waiting',
  'completed',
];

const dir = mkdtempSync(join(tmpdir(), 'trackme-stages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeStagesFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, 'utf8');
  return path;
}

function stage(id: string, order: number, transitions: string[], extra: Record<string, unknown> = {}) {
  return { id, name: id.toUpperCase(), order, transitions, ...extra };
}

/** The StageConfigError a call throws; fails the test when it throws nothing or something else. */
function configErrorOf(run: () => unknown): StageConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StageConfigError);
    return error as StageConfigError;
  }
  throw new Error('expected a StageConfigError, but the configuration was accepted');
}

describe('the default stage file', () => {
  const stageProcess = loadStageProcess(DEFAULT_FILE);

  it('loads the seed’s 12 stages sorted by order', () => {
    expect(stageProcess.stages.map((s) => s.id)).toEqual(DEFAULT_ORDER);
    expect(stageProcess.stages.map((s) => s.order)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(stageProcess.byId.get('form_filling')?.name).toBe('Form filling');
  });

  it('counts a client as converted on entering "completed"', () => {
    expect(stageProcess.conversionId).toBe('completed');
  });

  it('allows a new client in any stage, since no stage is marked initial', () => {
    expect([...stageProcess.initialIds].sort()).toEqual([...DEFAULT_ORDER].sort());
  });

  it('lets every stage move only to its neighbours', () => {
    DEFAULT_ORDER.forEach((id, index) => {
      const neighbours = [DEFAULT_ORDER[index - 1], DEFAULT_ORDER[index + 1]].filter((n) => n !== undefined);
      expect([...(stageProcess.byId.get(id)?.transitions ?? [])].sort(), id).toEqual(neighbours.sort());
    });
  });
});

describe('building a stage process', () => {
  it('sorts stages by order whatever order the file lists them in', () => {
    const stageProcess = buildStageProcess({ stages: [stage('c', 30, ['b']), stage('a', 10, ['b']), stage('b', 20, ['a', 'c'])] });
    expect(stageProcess.stages.map((s) => s.id)).toEqual(['a', 'b', 'c']);
  });

  it('allows only the stages marked initial on create when some are marked', () => {
    const stageProcess = buildStageProcess({
      stages: [stage('lead', 1, ['signup']), stage('signup', 2, ['lead', 'done'], { initial: true }), stage('done', 3, ['signup'], { initial: true })],
    });
    expect([...stageProcess.initialIds].sort()).toEqual(['done', 'signup']);
  });

  it('treats a stage marked initial: false like an unmarked one', () => {
    const stageProcess = buildStageProcess({ stages: [stage('a', 1, [], { initial: false }), stage('b', 2, [], { initial: true })] });
    expect([...stageProcess.initialIds]).toEqual(['b']);
  });

  it('counts the stage marked conversion as converted, even when it is not the last', () => {
    const stageProcess = buildStageProcess({
      stages: [stage('lead', 1, ['paid']), stage('paid', 2, ['lead', 'archived'], { conversion: true }), stage('archived', 3, ['paid'])],
    });
    expect(stageProcess.conversionId).toBe('paid');
  });

  it('counts the highest-order stage as converted when none is marked', () => {
    const stageProcess = buildStageProcess({ stages: [stage('z_last', 9, []), stage('a_first', 1, [])] });
    expect(stageProcess.conversionId).toBe('z_last');
  });
});

describe('an invalid stage configuration', () => {
  it('lists every rule broken, naming the offending stages, in one error', () => {
    const error = configErrorOf(() =>
      buildStageProcess(
        {
          stages: [
            stage('a', 1, ['b', 'ghost']),
            stage('b', 2, ['b'], { conversion: true }),
            stage('a', 3, []),
            stage('c', 2, ['a'], { conversion: true }),
            stage('next', 4, ['a']),
            stage('prev', 5, ['a']),
          ],
        },
        'my-stages.yaml',
      ),
    );
    const expected = [
      'stage "a" is declared twice',
      'stages "b" and "c" have the same order 2',
      'stage "a" has a transition to unknown stage "ghost"',
      'stage "b" lists itself as a transition',
      'stage id "next" is reserved for relative moves',
      'stage id "prev" is reserved for relative moves',
      'only one stage may be the conversion stage (got b, c)',
    ];
    expect(error.problems).toHaveLength(expected.length);
    expect(error.problems).toEqual(expect.arrayContaining(expected));
    expect(error.source).toBe('my-stages.yaml');
    expect(error.message).toContain('invalid stage configuration in my-stages.yaml');
    for (const problem of expected) expect(error.message).toContain(problem);
  });

  it('lists every schema problem at once, pointing at the stage by position and field', () => {
    const error = configErrorOf(() =>
      buildStageProcess({
        stages: [
          { id: 'registration', name: 'Registration', transitions: [] },
          { id: 'Bad-Id', name: 'Bad', order: 2, transitions: [] },
          { id: 'negative', name: 'Negative', order: -1, transitions: 'registration' },
        ],
      }),
    );
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^stages\.0: .*order/),
        expect.stringMatching(/^stages\.1\.id: /),
        expect.stringMatching(/^stages\.2\.order: /),
        expect.stringMatching(/^stages\.2\.transitions: /),
      ]),
    );
  });

  it('refuses an unknown field on a stage, naming it', () => {
    const error = configErrorOf(() => buildStageProcess({ stages: [stage('a', 1, [], { inital: true })] }));
    expect(error.problems.join('\n')).toContain('stages.0.inital');
  });

  it('refuses an empty process', () => {
    const error = configErrorOf(() => buildStageProcess({ stages: [] }));
    expect(error.problems).toEqual([expect.stringMatching(/^stages: /)]);
  });

  it('refuses a document that is not a stages mapping', () => {
    expect(configErrorOf(() => buildStageProcess(null)).problems).toEqual([expect.stringMatching(/^document: /)]);
    expect(configErrorOf(() => buildStageProcess('just text')).problems).toEqual([expect.stringMatching(/^document: /)]);
  });

  // docs/adr/0007-stage-process-file.md: "The file is validated at start-up with every error listed". Today a schema
  // problem anywhere hides every rule problem elsewhere, so the operator fixes one, restarts, and
  // only then learns about the next.
  it('lists rule problems of well-formed stages alongside a schema problem in another stage', () => {
    const error = configErrorOf(() =>
      buildStageProcess({
        stages: [stage('a', 1, ['ghost']), stage('a', 2, []), { id: 'b', name: 'B', transitions: [] }],
      }),
    );
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^stages\.2: .*order/),
        'stage "a" is declared twice',
        'stage "a" has a transition to unknown stage "ghost"',
      ]),
    );
  });
});

describe('loading a stage file', () => {
  it('loads a valid YAML file', () => {
    const path = writeStagesFile(
      'valid.yaml',
      ['stages:', '  - id: lead', '    name: Lead', '    order: 1', '    transitions: [won]', '  - id: won', '    name: Won', '    order: 2', '    transitions: [lead]', ''].join('\n'),
    );
    const stageProcess = loadStageProcess(path);
    expect(stageProcess.stages.map((s) => s.id)).toEqual(['lead', 'won']);
    expect(stageProcess.conversionId).toBe('won');
  });

  it('reports a file that is not YAML, naming the file', () => {
    const path = writeStagesFile('broken.yaml', 'stages: [unclosed\n');
    const error = configErrorOf(() => loadStageProcess(path));
    expect(error.problems).toEqual([expect.stringMatching(/^not valid YAML: /)]);
    expect(error.message).toContain(path);
  });

  it('reports a YAML file that breaks the rules with the file as the source', () => {
    const path = writeStagesFile(
      'self.yaml',
      ['stages:', '  - id: lead', '    name: Lead', '    order: 1', '    transitions: [lead]', ''].join('\n'),
    );
    const error = configErrorOf(() => loadStageProcess(path));
    expect(error.problems).toEqual(['stage "lead" lists itself as a transition']);
    expect(error.source).toBe(path);
  });

  it('reports a missing file, naming it', () => {
    const path = join(dir, 'does-not-exist.yaml');
    const error = configErrorOf(() => loadStageProcess(path));
    expect(error.problems).toEqual([expect.stringMatching(/^cannot read the file: .*ENOENT/)]);
    expect(error.message).toContain(path);
  });

  // docs/adr/0007-stage-process-file.md: the file is "compatible with the older service's", whose stages move to their
  // neighbours with `transitions: [prev, next]`. An operator keeping the seed's file must not be
  // refused at start-up.
  it('accepts a seed-style file whose transitions are [prev, next]', () => {
    const path = writeStagesFile(
      'seed-style.yaml',
      [
        'stages:',
        '  - id: registration',
        '    name: Registration',
        '    order: 1',
        '    transitions: [next]',
        '  - id: product_selection',
        '    name: Product selection',
        '    order: 2',
        '    transitions: [prev, next]',
        '  - id: completed',
        '    name: Completed',
        '    order: 3',
        '    transitions: [prev]',
        '',
      ].join('\n'),
    );
    const stageProcess = loadStageProcess(path);
    expect(stageProcess.stages.map((s) => s.id)).toEqual(['registration', 'product_selection', 'completed']);
  });
});
