import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@trackme/testkit';

/**
 * Schemathesis (from PyPI) in a virtualenv under `.local/fuzz/`, pinned by test/fuzz/requirements.txt.
 * The venv's folder name carries the requirements' hash, so changing a pin installs afresh.
 */
const FUZZ_DIR = path.join(REPO_ROOT, 'test', 'fuzz');
const REQUIREMENTS = path.join(FUZZ_DIR, 'requirements.txt');
export const SCHEMATHESIS_CONFIG = path.join(FUZZ_DIR, 'schemathesis.toml');
/** trackme's own checks (a refusal of schema-valid data must name a documented reason) */
const HOOKS = path.join(FUZZ_DIR, 'hooks.py');

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${[command, ...args].join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`);
  }
}

/** The venv's Python, with schemathesis installed in it first when needed (about 15 s with a warm pip cache). */
export function ensureSchemathesis(): string {
  const hash = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 12);
  const venv = path.join(REPO_ROOT, '.local', 'fuzz', `venv-${hash}`);
  const python = path.join(venv, 'bin', 'python');
  if (existsSync(python)) return python;
  // built beside its final place and renamed, so an interrupted install is never taken as done
  // (the CLI runs as `python -m schemathesis.cli`: the venv's scripts would name the old folder)
  const building = `${venv}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(path.dirname(venv), { recursive: true });
  run(process.env['PYTHON'] ?? 'python3', ['-m', 'venv', building]);
  run(path.join(building, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '-r', REQUIREMENTS]);
  renameSync(building, venv);
  return python;
}

export interface FuzzRun {
  /** the API's base URL, e.g. http://127.0.0.1:8080/api/v1 (its OpenAPI document is at /swagger/json) */
  api: string;
  /** a bearer token with a role that may call every operation; none: requests go without one */
  token?: string;
  /** the OpenAPI document (a URL or a file); default: the gateway's, `${api}/swagger/json` */
  schema?: string;
  /** the schemathesis settings; default: test/fuzz/schemathesis.toml */
  configFile?: string;
  maxExamples: number;
  seed?: number;
  workers?: number;
  /** extra command-line arguments, passed last */
  extra?: string[];
}

/** What the JSON run report says (the fields read here). */
export interface FuzzReport {
  complete: boolean;
  exit_code: number;
  operations: { total: number; selected: number; tested: number; errored: number };
  test_cases: { generated: number; with_failures: number; errored: number };
  failures: { code: string; title: string; count: number; operations: string[] }[];
  errors: { title: string; count: number }[];
  /** per operation and phase: how many schema-valid requests were answered 2xx ("accepted") */
  valid_rates: Record<string, Record<string, { accepted: number; rejected: number; unreachable: number }>>;
}

export interface FuzzResult {
  exitCode: number | null;
  output: string;
  report: FuzzReport;
}

/** Runs `schemathesis run` against a running gateway with test/fuzz/schemathesis.toml; output is streamed through. */
export async function runSchemathesis(run: FuzzRun, echo: (chunk: string) => void = () => {}): Promise<FuzzResult> {
  const python = ensureSchemathesis();
  const workDir = path.join(REPO_ROOT, '.local', 'fuzz');
  const reportPath = path.join(workDir, 'reports', `run-${Date.now()}.json`);
  mkdirSync(path.dirname(reportPath), { recursive: true });
  const args = [
    '-m', 'schemathesis.cli',
    '--config-file', run.configFile ?? SCHEMATHESIS_CONFIG,
    'run', run.schema ?? `${run.api}/swagger/json`,
    '--url', run.api,
    ...(run.token === undefined ? [] : ['--header', `Authorization: Bearer ${run.token}`]),
    '--max-examples', String(run.maxExamples),
    '--workers', String(run.workers ?? 1),
    '--report', 'json',
    '--report-json-path', reportPath,
    ...(run.seed === undefined ? [] : ['--seed', String(run.seed)]),
    ...(run.extra ?? []),
  ];
  // the working folder holds schemathesis's own cache of past failures, which it replays first
  const child = spawn(python, args, { cwd: workDir, env: { ...process.env, NO_COLOR: '1', PYTHONUNBUFFERED: '1', SCHEMATHESIS_HOOKS: HOOKS } });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    echo(chunk.toString());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  if (!existsSync(reportPath)) throw new Error(`schemathesis wrote no report (exit ${exitCode}):\n${output}`);
  return { exitCode, output, report: JSON.parse(readFileSync(reportPath, 'utf8')) as FuzzReport };
}
