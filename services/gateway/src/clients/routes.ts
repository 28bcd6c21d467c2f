import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchema } from 'fastify';
import { Type, type TObject } from 'typebox';
import {
  ClientIdSchema,
  ClientSchema,
  CommandTypes,
  CreateClientBodySchema,
  MoveStageBodySchema,
  PatchClientBodySchema,
  ReplaceClientBodySchema,
  unknownStage,
  type StageProcess,
} from '@trackme/contracts';
import { ValidationError } from '@trackme/platform';
import { executeWrite, type WriteContext } from '../commands/write-command.js';
import { IdempotencyKeyHeaderSchema, OperationAcceptedSchema, problemResponses } from '../http/schemas.js';

const ClientResponseSchema = Type.Object({ data: ClientSchema });
const Params = Type.Object({ id: ClientIdSchema });

/**
 * Refuses a stage the process does not have before anything is published (docs/architecture.md, "Write path"); the
 * clients service still decides whether the move itself is allowed.
 */
function assertKnownStage(process: StageProcess, stage: string | undefined, allowRelative: boolean): void {
  const unknown = stage === undefined ? undefined : unknownStage(process, stage, allowRelative);
  if (unknown) throw new ValidationError(unknown.message, [unknown]);
}

/**
 * The document lists the configured stages as the values `stage` takes, so a caller (and a fuzzer)
 * sees the process this gateway runs. Validation stays in assertKnownStage, whose error names the stage.
 */
function documentStages(body: TObject, stages: string[]) {
  const { $id: _id, ...inline } = body as TObject & { $id?: string };
  const properties = { ...body.properties, stage: { ...body.properties['stage'], enum: stages } };
  return ({ schema, url }: { schema: FastifySchema; url: string }) => ({ url, schema: { ...schema, body: { ...inline, properties } } });
}

export const clientRoutes: FastifyPluginAsyncTypebox<{ write: WriteContext; process: StageProcess }> = async (app, { write, process }) => {
  const stageIds = process.stages.map((s) => s.id);
  app.post(
    '/clients',
    {
      config: { swaggerTransform: documentStages(CreateClientBodySchema, stageIds.filter((id) => process.initialIds.has(id))) },
      schema: {
        tags: ['clients'],
        operationId: 'createClient',
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
      config: { swaggerTransform: documentStages(ReplaceClientBodySchema, [...stageIds, 'next', 'prev']) },
      schema: {
        tags: ['clients'],
        operationId: 'moveClientStage',
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
    '/clients/:id/stage',
    {
      config: { swaggerTransform: documentStages(MoveStageBodySchema, [...stageIds, 'next', 'prev']) },
      schema: {
        tags: ['clients'],
        operationId: 'patchClientStage',
        summary: "Move a client's stage, leaving its other fields as they are",
        description:
          '`stage` may be a stage id, "next" or "prev"; the move is checked against the process. Unlike PUT …/stage, fields someone changed since the caller read the client are kept.',
        params: Params,
        headers: IdempotencyKeyHeaderSchema,
        body: MoveStageBodySchema,
        response: { 200: ClientResponseSchema, 202: OperationAcceptedSchema, ...problemResponses(400, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      assertKnownStage(process, request.body.stage, true);
      await executeWrite(write, request, reply, {
        type: CommandTypes.moveClientStage,
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
        operationId: 'patchClient',
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
        operationId: 'deleteClient',
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
