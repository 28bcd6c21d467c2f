import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { StageSchema, type StageProcess } from '@trackme/contracts';

const StagesResponseSchema = Type.Object({
  data: Type.Object({
    stages: Type.Array(StageSchema),
    initial: Type.Array(Type.String(), { description: 'Stages a new client may start in' }),
    conversion: Type.String({ description: 'The stage that counts as converted' }),
  }),
});

export const stageRoutes: FastifyPluginAsyncTypebox<{ process: StageProcess }> = async (app, { process }) => {
  const body = {
    data: { stages: [...process.stages], initial: [...process.initialIds], conversion: process.conversionId },
  };
  app.get(
    '/stages',
    { schema: { tags: ['stages'], operationId: 'listStages', summary: 'The configured process: stages in order with their allowed transitions', response: { 200: StagesResponseSchema } } },
    async () => body,
  );
};
