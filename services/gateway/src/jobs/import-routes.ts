import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchema } from 'fastify';
import { Type } from 'typebox';
import { CreateClientBodySchema } from '@trackme/contracts';
import { problem, sendProblem, ValidationError } from '@trackme/platform';
import { send } from '../commands/write-command.js';
import { problemResponses } from '../http/schemas.js';
import { checkClientItems } from './check-items.js';
import { JobAcceptedHeaders, JobAnswerSchema } from './http-schemas.js';
import { FileTooLargeError, readImportFile, type ImportFormat } from './import-file.js';
import { itemClientId, jobIdOf, submitJob, type JobsDeps } from './submit.js';

const FORMATS: Record<string, ImportFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' };
const FIELDS = Object.keys(CreateClientBodySchema.properties);

const ImportQuerySchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('create'), Type.Literal('upsert')], { default: 'create', description: 'upsert: a line whose email a client has updates that client' }),
    dry_run: Type.Boolean({ default: false, description: 'true: check every line and report, write nothing' }),
    mapping: Type.Optional(
      Type.String({
        maxLength: 2_000,
        description: `Column (or key) names to trackme fields, as \`column:field\` pairs separated by commas, e.g. \`Full name:name,E-mail:email\`. Fields: ${FIELDS.join(', ')}. A column named like a field needs no mapping; others are left out and listed in the job's spec`,
      }),
    ),
  },
  { additionalProperties: false },
);

function mappingOf(text: string | undefined): Map<string, string> {
  const mapping = new Map<string, string>();
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const at = pair.lastIndexOf(':');
    const column = pair.slice(0, at).trim();
    const field = pair.slice(at + 1).trim();
    if (at <= 0 || !FIELDS.includes(field)) throw new ValidationError(`mapping "${pair}" is not column:field with a client field`, [{ field: 'mapping', message: `"${pair}": the field must be one of ${FIELDS.join(', ')}` }]);
    mapping.set(column, field);
  }
  return mapping;
}

/** The document shows the file as the body; the route reads it as a stream, so it has no body schema to validate. */
const documentFileBody = ({ schema, url }: { schema: FastifySchema; url: string }) => ({
  url,
  schema: {
    ...schema,
    body: {
      content: {
        'text/csv': { schema: { type: 'string', description: 'A header line, then one client per line', examples: ['name,email,source\nAnn Lee,ann@example.com,fair'] } },
        'application/x-ndjson': { schema: { type: 'string', description: 'One client (CreateClientBody) per line', examples: ['{"name":"Ann Lee","email":"ann@example.com"}'] } },
      },
    },
  },
});

export const importRoutes: FastifyPluginAsyncTypebox<JobsDeps> = async (app, deps) => {
  // the file is read as it streams in, never held whole as a body (this scope only)
  app.addContentTypeParser(Object.keys(FORMATS), (_request, payload, done) => done(null, payload));

  app.post(
    '/clients/import',
    {
      config: { swaggerTransform: documentFileBody },
      schema: {
        tags: ['clients'],
        operationId: 'importClients',
        summary: 'Import clients from a CSV or NDJSON file, as a job',
        description:
          'The body is the file: `text/csv` (a header line, then one client per line) or `application/x-ndjson` (one JSON object per line). ' +
          'Every line is checked on its own: a malformed line, a wrong type, an unknown stage or an email an earlier line has is reported in the ' +
          "job's item report with its line number, and the other lines go on. Larger than IMPORT_MAX_BYTES: 413, nothing imported. " +
          'An Idempotency-Key makes a retry answer the first job.',
        querystring: ImportQuerySchema,
        consumes: Object.keys(FORMATS),
        response: { 202: { ...JobAnswerSchema, headers: JobAcceptedHeaders }, ...problemResponses(409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const declared = Number(request.headers['content-length']);
      if (declared > deps.importMaxBytes) return sendProblem(request, reply, problem(413, 'file_too_large', `the file is larger than ${deps.importMaxBytes} bytes (IMPORT_MAX_BYTES)`));
      const { mode, dry_run: dryRun } = request.query;
      const mapping = mappingOf(request.query.mapping);
      const format = FORMATS[String(request.headers['content-type']).split(';')[0]!.trim().toLowerCase()];
      if (!format || !request.body) return sendProblem(request, reply, problem(415, 'unsupported_media_type', `send the file as ${Object.keys(FORMATS).join(' or ')}`));
      const id = jobIdOf(request);
      const existing = await deps.store.get(id);
      if (existing) {
        request.log.info({ job_id: id }, 'import retried with its Idempotency-Key: the first job answers');
        (request.body as Readable).resume();
        return send(request, reply.header('idempotent-replayed', 'true'), await submitJob(deps, request, reply, { id, kind: 'import', items: [] }));
      }
      let file;
      try {
        file = await readImportFile(request.body as Readable, format, mapping, deps.importMaxBytes);
      } catch (error) {
        if (error instanceof FileTooLargeError) return sendProblem(request, reply, problem(413, 'file_too_large', `${error.message} (IMPORT_MAX_BYTES)`));
        throw error;
      }
      const { records } = file;
      const items = checkClientItems(records.map((r) => ('raw' in r ? r.raw : {})), mode, deps.process, (i) => itemClientId(id, i), (i) => records[i]!.line).map((item, i) => {
        const record = records[i]!;
        if ('errors' in record) return { ...item, fields: undefined, status: 'failed' as const, code: 'malformed_line', message: 'the line could not be read', errors: record.errors };
        return dryRun && item.status === 'pending' ? { ...item, fields: undefined, status: 'succeeded' as const, outcome: 'validated' } : item;
      });
      const spec = { format, mode, mapping: Object.fromEntries(mapping), ignored_columns: file.ignored, bytes: file.bytes, sha256: file.sha256 };
      return send(request, reply, await submitJob(deps, request, reply, { id, kind: 'import', items, spec, dryRun }));
    },
  );
};
