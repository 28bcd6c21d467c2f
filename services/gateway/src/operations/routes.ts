import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '@trackme/platform';
import type { OperationRecord, OperationStore } from '../commands/operation-store.js';
import { problemResponses } from '../http/schemas.js';

const OperationSchema = Type.Object(
  {
    data: Type.Object({
      operation_id: Type.String(),
      status: Type.Union([Type.Literal('pending'), Type.Literal('completed')]),
      client_id: Type.String(),
      result: Type.Optional(
        Type.Object({
          status: Type.Integer({ description: 'The HTTP status the write would have answered' }),
          body: Type.Optional(Type.Unknown()),
        }),
      ),
    }),
  },
  { $id: 'Operation' },
);

export interface OperationRoutesOptions {
  operations: OperationStore;
  /** sends a pending operation's command again, in case the gateway waiting for its reply died */
  resend?: (operation: OperationRecord) => Promise<void>;
}

export const operationRoutes: FastifyPluginAsyncTypebox<OperationRoutesOptions> = async (app, { operations, resend }) => {
  app.get(
    '/operations/:id',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getOperation',
        summary: 'The result of a write that was answered 202 Accepted',
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }),
        response: { 200: OperationSchema, ...problemResponses(404) },
      },
    },
    async (request) => {
      const operation = await operations.getOperation(request.params.id);
      if (!operation) throw new NotFoundError(`no operation ${request.params.id}`);
      // in the background: the caller polls, and a later poll finds the replayed outcome
      if (operation.state === 'pending' && resend) void resend(operation).catch((error: unknown) => request.log.warn({ err: error, operation: operation.id }, 'could not send the operation again'));
      return {
        data: {
          operation_id: operation.id,
          status: operation.state,
          client_id: operation.client_id,
          ...(operation.result ? { result: operation.result } : {}),
        },
      };
    },
  );
};
