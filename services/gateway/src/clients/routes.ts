import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ClientIdSchema,
  ClientSchema,
  CommandTypes,
  CreateClientBodySchema,
  PatchClientBodySchema,
  ReplaceClientBodySchema,
  type StageProcess,
} from '@trackme/contracts';
import { ValidationError } from '@trackme/platform';
import { executeWrite, type WriteContext } from '../commands/write-command.js';
import { IdempotencyKeyHeaderSchema, OperationAcceptedSchema, problemResponses } from '../http/schemas.js';

const ClientResponseSchema = Type.Object({ data: ClientSchema });
const Params = Type.Object({ id: ClientIdSchema });

/**
 * Refuses a stage the process does not have before anything is published (DESIGN.md §1); the
 * clients service still decides whether the move itself is allowed.
 */
function assertKnownStage(process: StageProcess, stage: string | undefined, allowRelative: boolean): void {
  if (stage === undefined || process.byId.has(stage) || (allowRelative && (stage === 'next' || stage === 'prev'))) return;
  throw new ValidationError(`unknown stage "${stage}"`, [{ field: 'stage', message: `unknown stage "${stage}"` }]);
}

export const clientRoutes: FastifyPluginAsyncTypebox<{ write: WriteContext; process: StageProcess }> = async (app, { write, process }) => {
  app.post(
    '/clients',
    {
      schema: {
        tags: ['clients'],
        summary: 'Create a client',
        headers: IdempotencyKeyHeaderSchema,
        body: CreateClientBodySchema,
        response: { 201: ClientResponseSchema, 202: OperationAcceptedSchema, ...problemResponses(400, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      assertKnownStage(process, request.body.stage, false);
      await executeWrite(write, request, reply, {
        type: CommandTypes.createClient,
        clientId: (derived) => derived ?? randomUUID(),
        data: (clientId, actor) => ({ client_id: clientId, actor, fields: request.body }),
      });
    },
  );

  app.put(
    '/clients/:id/stage',
    {
      schema: {
        tags: ['clients'],
        summary: "Update a client's fields and move its stage",
        description: 'Full update: optional fields left out are cleared. `stage` may be a stage id, "next" or "prev". Never creates.',
        params: Params,
        headers: IdempotencyKeyHeaderSchema,
        body: ReplaceClientBodySchema,
        response: { 200: ClientResponseSchema, 202: OperationAcceptedSchema, ...problemResponses(400, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      assertKnownStage(process, request.body.stage, true);
      await executeWrite(write, request, reply, {
        type: CommandTypes.replaceClient,
        clientId: request.params.id,
        data: (clientId, actor) => ({ client_id: clientId, actor, fields: request.body }),
      });
    },
  );

  app.patch(
    '/clients/:id',
    {
      schema: {
        tags: ['clients'],
        summary: "Change some of a client's fields (not its stage)",
        params: Params,
        headers: IdempotencyKeyHeaderSchema,
        body: PatchClientBodySchema,
        response: { 200: ClientResponseSchema, 202: OperationAcceptedSchema, ...problemResponses(400, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      await executeWrite(write, request, reply, {
        type: CommandTypes.patchClient,
        clientId: request.params.id,
        data: (clientId, actor) => ({ client_id: clientId, actor, fields: request.body }),
      });
    },
  );

  app.delete(
    '/clients/:id',
    {
      schema: {
        tags: ['clients'],
        summary: 'Delete a client',
        params: Params,
        headers: IdempotencyKeyHeaderSchema,
        response: { 204: Type.Null({ description: 'Deleted' }), 202: OperationAcceptedSchema, ...problemResponses(404, 422, 503) },
      },
    },
    async (request, reply) => {
      await executeWrite(write, request, reply, {
        type: CommandTypes.deleteClient,
        clientId: request.params.id,
        data: (clientId, actor) => ({ client_id: clientId, actor }),
      });
    },
  );
};
