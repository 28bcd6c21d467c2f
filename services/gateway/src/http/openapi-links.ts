/**
 * OpenAPI links: how the answer of one operation feeds the next (a created client's id into its
 * reads and writes, a 202's operation id into GET /operations/{id}, a rollup job's id into its
 * progress). Client generators and API fuzzers follow them to reach existing resources.
 */

interface Operation {
  operationId?: string;
  responses?: Record<string, { links?: Record<string, unknown> }>;
}

interface Document {
  paths?: Record<string, Record<string, Operation>>;
}

const link = (operationId: string, pointer: string, description: string) => ({
  operationId,
  parameters: { id: `$response.body#${pointer}` },
  description,
});

const ofCreatedClient = {
  GetClient: link('getClient', '/data/id', 'The created client'),
  GetClientHistory: link('getClientHistory', '/data/id', "The created client's timeline"),
  PatchClient: link('patchClient', '/data/id', 'Change the created client'),
  MoveClientStage: link('moveClientStage', '/data/id', 'Move the created client'),
  PatchClientStage: link('patchClientStage', '/data/id', "Move the created client's stage only"),
  DeleteClient: link('deleteClient', '/data/id', 'Delete the created client'),
};
const ofChangedClient = {
  GetClient: ofCreatedClient.GetClient,
  GetClientHistory: ofCreatedClient.GetClientHistory,
};
const ofJob = {
  GetJob: link('getJob', '/data/id', "The job's progress and item report"),
  CancelJob: link('cancelJob', '/data/id', 'Stop the job'),
};
const ofQueuedWrite = { GetOperation: link('getOperation', '/data/operation_id', "The queued write's result") };

/** operationId → status → links of that answer */
const LINKS: Record<string, Record<string, Record<string, unknown>>> = {
  createClient: { '201': ofCreatedClient, '202': ofQueuedWrite },
  moveClientStage: { '200': ofChangedClient, '202': ofQueuedWrite },
  patchClient: { '200': ofChangedClient, '202': ofQueuedWrite },
  patchClientStage: { '200': ofChangedClient, '202': ofQueuedWrite },
  deleteClient: { '202': ofQueuedWrite },
  batchClients: { '202': ofJob },
  bulkClients: { '202': ofJob },
  importClients: { '202': ofJob },
  triggerRollup: { '202': { GetRollupJob: link('getRollupJob', '/data/id', "The job's progress") } },
};

export function addLinks<T extends Document>(document: T): T {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const byStatus = operation.operationId ? LINKS[operation.operationId] : undefined;
      for (const [status, links] of Object.entries(byStatus ?? {})) {
        const response = operation.responses?.[status];
        if (!response) throw new Error(`${operation.operationId} has no ${status} response to link from`);
        response.links = links;
      }
    }
  }
  return document;
}
