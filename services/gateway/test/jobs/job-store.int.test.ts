import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { isolatedEnv } from '@trackme/testkit';
import { CHUNK_SIZE, chunkId, type JobDocument, type JobItem } from '../../src/jobs/job-model.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { jobView } from '../../src/jobs/job-view.js';

// the job store against the real Mongo-wire server: what GET /jobs reports while a job runs, once
// it ends, and for jobs stored before their progress was kept on the job
let mongo: MongoClient;
let db: Db;
let store: JobStore;

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = await MongoClient.connect(env.MONGO_URL);
  db = mongo.db();
  store = new JobStore(db);
}, 60_000);

afterAll(async () => {
  await mongo?.close();
});

const TOTAL = CHUNK_SIZE * 2 + 200;
let serial = 0;

/** A stored running job of TOTAL pending items, over three chunks. */
async function storedJob(): Promise<{ job: JobDocument; items: JobItem[] }> {
  const id = `store-${(serial += 1)}-${Date.now()}`;
  const items: JobItem[] = Array.from({ length: TOTAL }, (_, i) => ({ i, op: 'move', client_id: `c-${id}-${i}`, fields: { stage: 'won' }, status: 'pending' }));
  const { job } = await store.create({ _id: id, kind: 'bulk', status: 'running', requested_by: { subject: 'u-1', role: 'admin' }, created_at: new Date(), started_at: new Date() }, items);
  return { job, items };
}

const outcome = (item: JobItem, status: 'succeeded' | 'refused'): JobItem =>
  status === 'refused' ? { ...item, status, code: 'illegal_transition', message: 'no way there' } : { ...item, status, outcome: 'changed' };

/** Outcomes of items [from, to) of one chunk: every tenth refused, the rest succeeded. */
async function settle(job: JobDocument, items: JobItem[], from: number, to: number): Promise<void> {
  const chunk = Math.floor(from / CHUNK_SIZE);
  await store.record(job._id, chunk, items.slice(from, to).map((item) => outcome(item, item.i % 10 === 9 ? 'refused' : 'succeeded')));
}

const fresh = async (id: string) => (await store.get(id))!;
const view = async (id: string, query: { items_offset?: number; items_limit?: number; items_status?: JobItem['status'] } = {}) =>
  jobView(store, await fresh(id), { items_offset: 0, items_limit: 100, ...query }, new Date());

describe("a job's counts and item report", () => {
  it('counts outcomes as they are recorded, in every chunk', async () => {
    const { job, items } = await storedJob();
    await settle(job, items, 0, 300);
    await settle(job, items, CHUNK_SIZE * 2, CHUNK_SIZE * 2 + 50);
    const { counts } = await view(job._id);
    expect(counts).toEqual({ total: TOTAL, done: 350, succeeded: 315, refused: 35, failed: 0 });
  });

  it('pages through one status across chunks, with the number matching', async () => {
    const { job, items } = await storedJob();
    await settle(job, items, 0, CHUNK_SIZE);
    await settle(job, items, CHUNK_SIZE, CHUNK_SIZE + 100);
    // refused: items 9, 19, … of chunk 0 (50 of them), then 509, 519, … (10 of them)
    const refused = await view(job._id, { items_status: 'refused', items_offset: 45, items_limit: 10 });
    expect(refused.items.matching).toBe(60);
    expect(refused.items.data.map((item) => item.index)).toEqual([459, 469, 479, 489, 499, 509, 519, 529, 539, 549]);
    expect(refused.items.data[0]).toMatchObject({ status: 'refused', code: 'illegal_transition' });

    const pending = await view(job._id, { items_status: 'pending', items_offset: 0, items_limit: 3 });
    expect(pending.items.matching).toBe(TOTAL - CHUNK_SIZE - 100);
    expect(pending.items.data.map((item) => item.index)).toEqual([CHUNK_SIZE + 100, CHUNK_SIZE + 101, CHUNK_SIZE + 102]);

    const all = await view(job._id, { items_offset: CHUNK_SIZE * 2 + 195, items_limit: 100 });
    expect(all.items.matching).toBe(TOTAL);
    expect(all.items.data.map((item) => item.index)).toEqual([1195, 1196, 1197, 1198, 1199]);
  });

  it('reports a job stored before progress was kept from its chunks, and keeps counting it', async () => {
    const { job, items } = await storedJob();
    await settle(job, items, 0, 100);
    await db.collection('jobs').updateOne({ _id: job._id as never }, { $unset: { progress: '' } });
    expect((await view(job._id)).counts).toMatchObject({ done: 100, succeeded: 90, refused: 10 });
    // a runner of the new version records in the last chunk only: the others still count
    await settle(job, items, CHUNK_SIZE * 2, CHUNK_SIZE * 2 + 10);
    expect((await view(job._id)).counts).toMatchObject({ done: 110, succeeded: 99, refused: 11 });
    expect((await view(job._id, { items_status: 'refused', items_limit: 100 })).items.matching).toBe(11);
  });

  it("puts right a job's count that a crash left short, from the chunk it was recorded in", async () => {
    const { job, items } = await storedJob();
    await settle(job, items, 0, 100);
    // a runner killed between the chunk's write and the job's: the chunk holds 50 outcomes more
    const lost = items.slice(100, 150).map((item) => outcome(item, 'succeeded'));
    await db.collection('job_items').updateOne({ _id: chunkId(job._id, 0) as never }, { $set: Object.fromEntries(lost.map((item) => [`items.${item.i}`, item])), $inc: { 'counts.succeeded': 50 } });
    expect((await view(job._id)).counts.done).toBe(100);

    // the next runner reads the chunk before sending what is pending in it
    const stored = await fresh(job._id);
    const chunk = (await store.chunk(job._id, 0))!;
    await store.syncProgress(stored, 0, chunk.counts);
    expect((await view(job._id)).counts).toMatchObject({ done: 150, succeeded: 140, refused: 10 });

    // and a job's end stores the counts of its chunks
    await db.collection('job_items').updateOne({ _id: chunkId(job._id, 1) as never }, { $inc: { 'counts.failed': 1 } });
    await db.collection('jobs').updateOne({ _id: job._id as never }, { $set: { lease_owner: 'runner-1' } });
    await store.finish(job._id, 'runner-1', 'partially_failed', new Date(), 60_000, await store.chunkCounts(stored));
    expect((await view(job._id)).counts).toMatchObject({ done: 151, failed: 1 });
  });
});
