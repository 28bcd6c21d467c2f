import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file && existsSync(resolve(root, file)) && statSync(resolve(root, file)).size < 1_000_000);
const TEXT = /\.(ts|mts|mjs|js|json|ya?ml|md|sh|properties|xml|txt|toml)$|(^|\/)(Dockerfile|\.gitignore|\.dockerignore|\.env\.dist|\.node-version|run)$/;
const texts = tracked.filter((file) => TEXT.test(file) && file !== 'package-lock.json');

const insideRepository = (path: string) => !relative(root, path).startsWith('..');

describe('the repository stands on its own', () => {
  it('no tracked file cites the design reference kept outside the repository', () => {
    // built from parts so this file does not match itself
    const outside = [['DESIGN', '.md'].join(''), ['/work', '/'].join('')];
    const hits = texts.flatMap((file) =>
      readFileSync(resolve(root, file), 'utf8')
        .split('\n')
        .flatMap((line, index) => (outside.some((needle) => line.includes(needle)) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it('no relative path in a tracked file climbs out of the repository', () => {
    // in Markdown, code spans quote messages and commands (an error's `'../lib/cli.js'`), not paths of ours
    const textOf = (file: string) => {
      const text = readFileSync(resolve(root, file), 'utf8');
      return file.endsWith('.md') ? text.replace(/```[\s\S]*?```|`[^`\n]*`/g, '') : text;
    };
    const hits = texts.flatMap((file) =>
      [...textOf(file).matchAll(/(?:\.\.\/)+[\w.-]*/g)]
        .map((match) => match[0])
        .filter((path) => !insideRepository(resolve(root, dirname(file), path)))
        .map((path) => `${file}: ${path}`),
    );
    expect(hits).toEqual([]);
  });

  it('no tracked file names a path up into a folder called "shared"', () => {
    // The common code lives in libs/. A relative path that climbs into a folder named "shared", even
    // one that stays inside a clone, reads like the design folder kept beside the repository.
    const needle = new RegExp(String.raw`(?:\.\./)+` + 'shared' + String.raw`\b`);
    const hits = texts.flatMap((file) =>
      readFileSync(resolve(root, file), 'utf8')
        .split('\n')
        .flatMap((line, index) => (needle.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it('every relative link in the Markdown files leads to a file of the repository', () => {
    const hits = texts
      .filter((file) => file.endsWith('.md'))
      .flatMap((file) =>
        [...readFileSync(resolve(root, file), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
          .map((match) => match[1]!.split('#')[0]!)
          .filter((target) => target !== '' && !/^[a-z]+:/i.test(target))
          .filter((target) => {
            const path = resolve(root, dirname(file), target);
            return !insideRepository(path) || !existsSync(path);
          })
          .map((target) => `${file}: ${target}`),
      );
    expect(hits).toEqual([]);
  });

  it('the reading path of POST /clients in docs/architecture.md names at most 20 existing files', () => {
    const doc = readFileSync(resolve(root, 'docs/architecture.md'), 'utf8');
    const section = doc.split('## Reading path of one POST /clients')[1]?.split('\n## ')[0] ?? '';
    const files = [...section.matchAll(/^\d+\. \[?`([^`]+)`/gm)].map((match) => match[1]!);
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThanOrEqual(20);
    expect(files.filter((file) => !existsSync(resolve(root, file)))).toEqual([]);
  });
});

describe('dependency direction (lint)', () => {
  const eslint = new ESLint({ cwd: root });
  // relative to the pretend file's folder, joined so the link check above does not read them as ours
  const up = (levels: number, path: string) => [...Array<string>(levels).fill('..'), path].join('/');
  const problemsOf = async (file: string, code: string) =>
    (await eslint.lintText(code, { filePath: resolve(root, file) }))[0]!.messages.filter((m) => m.ruleId === 'trackme/dependency-direction');

  it('a service importing another service fails lint', async () => {
    const byPath = await problemsOf('services/gateway/src/example.ts', `export { createCommandHandler } from '${up(2, 'clients/src/clients/command-handler.js')}';\n`);
    const byName = await problemsOf('services/read/src/example.ts', "import '@trackme/metrics';\n");
    expect(byPath.map((m) => m.message)).toEqual([expect.stringContaining('services/gateway imports services/clients')]);
    expect(byName.map((m) => m.message)).toEqual([expect.stringContaining('services/read imports services/metrics')]);
  });

  it('a shared package importing a service fails lint', async () => {
    const problems = await problemsOf('libs/platform/src/example.ts', `export const load = () => import('${up(3, 'services/read/src/compose.js')}');\n`);
    expect(problems.map((m) => m.message)).toEqual([expect.stringContaining('libs/platform imports services/read')]);
  });

  it('a service importing shared packages and its own files passes', async () => {
    const code = "import '@trackme/contracts';\nimport '@trackme/platform';\nimport './config.js';\nimport '@trackme/clients';\n";
    expect(await problemsOf('services/clients/src/example.ts', code)).toEqual([]);
  });
});
