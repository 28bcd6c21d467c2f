import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { REPO_ROOT } from '@trackme/testkit';
import { mongoBackend } from '../lib/system.js';
import type { Scenario } from '../lib/scenario.js';

const run = promisify(execFile);
const STACK = path.join(REPO_ROOT, 'deploy/local/stack.sh');
/** the bench profile of stack.sh: a Mongo-wire server of its own, which this scenario may kill */
const PROFILE = 'bench';
const WRITERS = 8;
/** about the size of a stored client */
const PAYLOAD = randomBytes(700).toString('hex');

const stack = (command: string) => run('bash', [STACK, command, PROFILE, 'mongo'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });

async function mongoUrl(): Promise<string> {
  const { stdout } = await run('bash', [STACK, 'env', PROFILE], { cwd: REPO_ROOT });
  return stdout.split('\n').find((line) => line.startsWith('MONGO_URL='))!.slice('MONGO_URL='.length).replace(/\/[^/?]*$/, '/trackme_crash');
}

/** Waits until a killed process has exited (a zombie counts as exited). */
async function gone(pid: number): Promise<void> {
  for (;;) {
    let state: string;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.charAt(0);
    } catch {
      return;
    }
    if (state === 'Z') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Writers insert documents as fast as they can; the server is killed with SIGKILL while they do,
 * then started again on the same data. Every insert the server acknowledged must still be there.
 */
export const serverCrash: Scenario = {
  name: 'server-crash',
  title: 'Mongo-wire server killed (SIGKILL) during writes: nothing acknowledged is lost',
  async run(context) {
    const seconds = context.quick ? 2 : 5;
    await stack('reset');
    await stack('up');
    const url = await mongoUrl();
    const backend = await mongoBackend(url);
    const acknowledged: string[] = [];
    let failed = 0;
    const client = await MongoClient.connect(url, { serverSelectionTimeoutMS: 2_000, retryWrites: false });
    try {
      const collection = client.db().collection<{ _id: string; payload: string; at: Date }>('crash');
      let stop = false;
      const writers = Array.from({ length: WRITERS }, async () => {
        while (!stop) {
          const _id = randomUUID();
          try {
            await collection.insertOne({ _id, payload: PAYLOAD, at: new Date() });
            acknowledged.push(_id);
          } catch {
            // the server is gone: what it did not acknowledge may or may not be there
            failed += 1;
            return;
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const pid = Number(readFileSync(path.join(REPO_ROOT, '.local/stack', PROFILE, 'mongo.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      stop = true;
      await Promise.all(writers);
      await gone(pid);
    } finally {
      await client.close(true);
    }
    // the stack notices the dead server by its pid and starts it again on the same data
    const restart0 = performance.now();
    await stack('up');
    const restartSeconds = (performance.now() - restart0) / 1000;
    const again = await MongoClient.connect(url);
    let kept = 0;
    try {
      const collection = again.db().collection<{ _id: string }>('crash');
      for (let i = 0; i < acknowledged.length; i += 1000) kept += await collection.countDocuments({ _id: { $in: acknowledged.slice(i, i + 1000) } });
    } finally {
      await again.close();
      await stack('down');
    }
    const lost = acknowledged.length - kept;
    return {
      figures: { backend, writers: WRITERS, seconds, acknowledged: acknowledged.length, kept, lost, failedInFlight: failed, restartSeconds },
      goals: [{ goal: `SIGKILL of the Mongo-wire server during writes (${backend}): nothing acknowledged lost`, measured: `${kept} of ${acknowledged.length} kept`, met: lost === 0 && acknowledged.length > 0 }],
      markdown: [
        `${WRITERS} writers inserting documents of about 1.5 KB into ${backend} (stack.sh profile \`${PROFILE}\`, backend chosen by \`MONGO_BACKEND\`) for ${seconds} s, then \`kill -9\` of the server, which starts again on its data.`,
        '',
        '| acknowledged | kept after restart | lost | writes in flight at the kill | restart |',
        '|---:|---:|---:|---:|---:|',
        `| ${acknowledged.length} | ${kept} | ${lost} | ${failed} | ${restartSeconds.toFixed(1)} s |`,
      ].join('\n'),
    };
  },
};
