// `node scripts/node-lts.mjs <command> [args…]` runs a command on the project's Node LTS
// (`.node-version`): the Node running this script when it is at least that version, otherwise
// the pinned one, provisioned once per user (see lib/pinned-node.mjs). Its bin folder goes first
// on PATH, so every `node`, `npm`, `npx` and `#!/usr/bin/env node` tool the command starts (tsc,
// eslint, vitest, tsx, the services) runs on the same Node.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { compareVersions, linkLocal, pinnedVersion, provisionNode } from './lib/pinned-node.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/node-lts.mjs <command> [args…]');
  process.exit(2);
}
const say = (message) => console.error(`[node] ${message}`); // stderr: stdout may be captured

const version = pinnedVersion();
let home = path.dirname(path.dirname(process.execPath));
if (compareVersions(process.version, version) < 0) {
  home = await provisionNode({ version, log: say }).catch((error) => {
    say(error.message);
    process.exit(1);
  });
  linkLocal(home);
}
const bin = path.join(home, 'bin');
const node = path.join(bin, 'node');
// npm's script environment names the Node that started npm, and node-gyp would build native
// addons against the headers `nodedir` names: children must see this Node and its headers
const env = {
  ...process.env,
  PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
  NODE: node,
  npm_node_execpath: node,
  ...(process.env.npm_config_nodedir ? { npm_config_nodedir: home } : {}),
};

// npm exports its settings to scripts, the prefix of the Node that started it included; another
// npm reading them would put that Node's bin back on PATH (npm exec adds the global bin), so the
// settings that point into another Node's installation go: this Node's npm finds its own
for (const key of ['npm_config_prefix', 'npm_config_global_prefix']) {
  const prefix = env[key];
  if (prefix && path.resolve(prefix) !== home && existsSync(path.join(prefix, 'bin', 'node'))) {
    for (const [name, value] of Object.entries(env)) {
      if (name.startsWith('npm_config_') && name !== 'npm_config_nodedir' && (value === prefix || value?.startsWith(`${prefix}/`))) delete env[name];
    }
  }
}

const child = spawn(command, args, { stdio: 'inherit', env });
// Ctrl-C reaches the whole process group, the child included: wait for it to finish.
// SIGTERM and SIGHUP are usually sent to this process alone: pass them on.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  say(`${command}: ${error.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
