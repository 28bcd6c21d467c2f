/**
 * Bulk operations as jobs: items/s of a 10,000-line import (`POST /clients/import`) and of a
 * 10,000-client stage move (`POST /clients/bulk`), each from submission to the job's end, as a
 * ratio to the single-write path in the same run (`POST /clients`, 16 connections); and the p99
 * of those single writes alone and during the stage move (the job lane, docs/adr/0010).
 */
import { randomUUID } from 'node:crypto';
import { createLoad, retryOnPortRace, statusesOf, type CreateLoadResult } from '../lib/create-load.js';
import { fmt, type Scenario } from '../lib/scenario.js';
import { apiClient, newClient } from '../lib/seed.js';
import { emptyBenchEnv, startSystem } from '../lib/system.js';

const NAMESPACE = 'benchjobs';
const GOAL_RATIO = 3;

type Api = ReturnType<typeof apiClient>;

async function uploadNdjson(api: string, authorization: string, lines: string): Promise<string> {
  const response = await fetch(`${api}/clients/import`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-ndjson' }, body: lines });
  const body = (await response.json()) as { data: { id: string } };
  if (response.status !== 202) throw new Error(`import answered ${response.status}: ${JSON.stringify(body)}`);
  return body.data.id;
}

/** Waits for a job to end; its items/s from submission to the end. */
async function jobRate(client: Api, id: string, submittedAt: number): Promise<{ seconds: number; rate: number; counts: Record<string, number>; status: string }> {
  for (;;) {
    const job = (await client.request('GET', `/jobs/${id}?items_limit=1`)).body.data;
    if (!['queued', 'running'].includes(job.status)) {
      const seconds = (performance.now() - submittedAt) / 1000;
      return { seconds, rate: job.counts.total / seconds, counts: job.counts, status: job.status };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function waitForTotal(client: Api, query: string, total: number): Promise<void> {
  const until = Date.now() + 120_000;
  // the read model (cached lists): an uncached count scans every client where no index serves it
  while ((await client.request('GET', `/clients?${query}&limit=1`)).body?.meta?.total !== total) {
    if (Date.now() > until) throw new Error(`the read model never showed ${total} clients for ${query}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export const bulkJobs: Scenario = {
  name: 'bulk-jobs',
  title: 'Bulk jobs: import and mass stage move items/s vs single writes, and single-write p99 during a job',
  async run(context) {
    const count = context.quick ? 1_000 : 10_000;
    const seconds = context.quick ? 5 : 10;
    const env = await emptyBenchEnv(NAMESPACE);
    // JOB_WINDOW set for the bench is the gateway's: the lane's width against the interactive p99
    const window = process.env['JOB_WINDOW'];
    const system = await retryOnPortRace(() => startSystem(env, window ? { env: { JOB_WINDOW: window } } : {}));
    const client = apiClient(system.api, context.authorization);
    try {
      const alone = await createLoad(system.api, context.authorization, { connections: 16, seconds });
      const source = `bulk-${randomUUID().slice(0, 8)}`;
      const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ ...newClient(i), source })).join('\n');
      const importStart = performance.now();
      const imported = await jobRate(client, await uploadNdjson(system.api, context.authorization, lines), importStart);
      if (imported.counts['succeeded'] !== count) throw new Error(`the import ended ${imported.status}: ${JSON.stringify(imported.counts)}`);

      await waitForTotal(client, `source=${source}`, count);
      // single writes while the move runs: its rate includes those seconds of competition
      const moveStart = performance.now();
      const submitted = await client.request('POST', '/clients/bulk', { filter: { source }, action: { type: 'stage', stage: 'next' } });
      if (submitted.status !== 202) throw new Error(`the stage move answered ${submitted.status}: ${JSON.stringify(submitted.body)}`);
      const during: CreateLoadResult = await createLoad(system.api, context.authorization, { connections: 16, seconds });
      const moved = await jobRate(client, submitted.body.data.id, moveStart);
      if (moved.counts['succeeded'] !== count) throw new Error(`the move ended ${moved.status}: ${JSON.stringify(moved.counts)}`);
      const importRatio = imported.rate / alone.rps;
      const moveRatio = moved.rate / alone.rps;
      return {
        figures: { count, alone, imported, moved, during, importRatio, moveRatio },
        goals: [
          { goal: `import items/s ≥ ${GOAL_RATIO}× single writes/s`, measured: fmt.ratio(importRatio), met: importRatio >= GOAL_RATIO },
          { goal: `mass stage move items/s ≥ ${GOAL_RATIO}× single writes/s`, measured: fmt.ratio(moveRatio), met: moveRatio >= GOAL_RATIO },
          { goal: 'single-write p99 during a job < WRITE_TIMEOUT_MS (5 s)', measured: `${during.p99} ms`, met: during.p99 < 5_000 },
        ],
        markdown: [
          `${count.toLocaleString('en-US')} items per job, \`JOB_WINDOW\` ${window ?? 'default (64)'}; baseline: ${seconds} s of \`POST /clients\` at 16 connections, same system, same run`,
          '',
          '| path | items/s | ratio | p50 | p99 | answers |',
          '|---|---:|---:|---:|---:|---|',
          `| baseline: \`POST /clients\`, 16 connections, no job | ${fmt.rps(alone.rps)} | 1× | ${alone.p50} ms | ${alone.p99} ms | ${statusesOf(alone)} |`,
          `| \`POST /clients/import\` (NDJSON) to the job's end | ${fmt.rps(imported.rate)} | ${fmt.ratio(importRatio)} | | | ${imported.status} in ${imported.seconds.toFixed(1)} s |`,
          `| \`POST /clients/bulk\` stage next to the job's end | ${fmt.rps(moved.rate)} | ${fmt.ratio(moveRatio)} | | | ${moved.status} in ${moved.seconds.toFixed(1)} s |`,
          `| \`POST /clients\`, 16 connections, during the stage move | ${fmt.rps(during.rps)} | | ${during.p50} ms | ${during.p99} ms | ${statusesOf(during)} |`,
        ].join('\n'),
      };
    } finally {
      await client.close();
      await system.stop();
    }
  },
};
