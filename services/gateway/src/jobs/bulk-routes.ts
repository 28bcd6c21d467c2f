import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { ListClientsFilterSchema, PatchClientBodySchema, StageRefSchema, unknownStage } from '@trackme/contracts';
import { ValidationError } from '@trackme/platform';
import { IdempotencyKeyHeaderSchema, problemResponses } from '../http/schemas.js';
import { clientsMatching } from './client-set.js';
import { JobAcceptedHeaders, JobAnswerSchema } from './http-schemas.js';
import type { JobItem } from './job-model.js';
import { idempotent, jobIdOf, submitJob, type JobsDeps } from './submit.js';

const ActionSchema = Type.Union(
  [
    Type.Object({ type: Type.Literal('stage'), stage: StageRefSchema }, { additionalProperties: false, description: 'Move each client to a stage, or to the next or previous one; moves the process forbids are refused and reported' }),
    Type.Object({ type: Type.Literal('set_active'), is_active: Type.Boolean() }, { additionalProperties: false, description: 'Activate or deactivate each client' }),
    Type.Object({ type: Type.Literal('patch'), fields: PatchClientBodySchema }, { additionalProperties: false, description: "Change these fields of each client (not its stage)" }),
    Type.Object({ type: Type.Literal('delete') }, { additionalProperties: false, description: 'Delete each client' }),
  ],
  { description: 'One action applied to every client of the filter' },
);

const BulkBodySchema = Type.Object(
  {
    filter: { ...ListClientsFilterSchema, description: 'The parameters of GET /clients (without paging); `is_active` defaults to true there too' },
    action: ActionSchema,
  },
  { additionalProperties: false, examples: [{ filter: { stage: 'new', source: 'fair-2026' }, action: { type: 'stage', stage: 'next' } }] },
);

type Action = Static<typeof ActionSchema>;

/**
 * The command an action makes of one client. A stage move names only the stage, so a field changed
 * after the set was read is kept; each move is still checked against the process when applied.
 */
function itemOf(action: Action, clientId: string, i: number): JobItem {
  const base = { i, client_id: clientId, status: 'pending' as const };
  switch (action.type) {
    case 'stage':
      return { ...base, op: 'move', fields: { stage: action.stage } };
    case 'set_active':
      return { ...base, op: 'patch', fields: { is_active: action.is_active } };
    case 'patch':
      return { ...base, op: 'patch', fields: action.fields };
    case 'delete':
      return { ...base, op: 'delete' };
  }
}

export const bulkActionRoutes: FastifyPluginAsyncTypebox<JobsDeps> = async (app, deps) => {
  app.post(
    '/clients/bulk',
    {
      schema: {
        tags: ['clients'],
        operationId: 'bulkClients',
        summary: 'Apply one action to every client a list filter matches, as a job',
        description:
          'The set of clients is read when the job is made: clients created or changed to match later are not touched. ' +
          'Each change is an ordinary command checked by the process; refused ones are reported in the job, never forced.',
        headers: IdempotencyKeyHeaderSchema,
        body: BulkBodySchema,
        response: { 202: { ...JobAnswerSchema, headers: JobAcceptedHeaders }, ...problemResponses(409, 422, 503) },
      },
    },
    async (request, reply) => {
      const { filter, action } = request.body;
      if (action.type === 'stage') {
        const unknown = unknownStage(deps.process, action.stage, true);
        if (unknown) throw new ValidationError(unknown.message, [{ field: 'action.stage', message: unknown.message }]);
      }
      return idempotent(deps.write, request, reply, JSON.stringify(request.body), async () => {
        const ids = await clientsMatching(deps.read, filter);
        const items = ids.map((id, i) => itemOf(action, id, i));
        return submitJob(deps, request, reply, { id: jobIdOf(request), kind: 'bulk', items, spec: { filter, action } });
      });
    },
  );
};
