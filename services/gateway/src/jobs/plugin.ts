import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { batchRoutes } from './batch-routes.js';
import { bulkActionRoutes } from './bulk-routes.js';
import { importRoutes } from './import-routes.js';
import { jobRoutes } from './job-routes.js';
import type { JobsDeps } from './submit.js';

/** Bulk operations: the routes that start jobs, and the jobs themselves. */
export const bulkRoutes: FastifyPluginAsyncTypebox<JobsDeps> = async (app, deps) => {
  await app.register(batchRoutes, deps);
  await app.register(bulkActionRoutes, deps);
  await app.register(importRoutes, deps);
  await app.register(jobRoutes, deps);
};
