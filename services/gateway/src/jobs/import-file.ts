import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { CreateClientBodySchema, type FieldError } from '@trackme/contracts';

export type ImportFormat = 'csv' | 'ndjson';

/** One record of a file: its line, and its fields under trackme's names, or why it could not be read. */
export type ImportRecord = { line: number; raw: Record<string, unknown> } | { line: number; errors: FieldError[] };

export interface ReadFile {
  records: ImportRecord[];
  bytes: number;
  sha256: string;
  /** columns (or keys) that are neither mapped nor a client field: left out, and said so in the job */
  ignored: string[];
}

/** The file is larger than the limit: nothing of it is used. */
export class FileTooLargeError extends Error {}

const FIELDS = new Set(Object.keys(CreateClientBodySchema.properties));
const BOOLEAN = new Map([['true', true], ['false', false]]);

/**
 * A CSV value as the field wants it: CSV has only text, so `is_active` reads true/false and
 * `contracts` a JSON array; an empty cell is a field left out. Anything else stays text for the
 * schema to judge.
 */
function typedCell(field: string, value: string): unknown {
  if (field === 'is_active') return BOOLEAN.get(value.trim().toLowerCase()) ?? value;
  if (field === 'contracts') {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

/** Renames a record's keys by the mapping, and drops (remembering) the ones that are no client field. */
function mapped(source: Record<string, unknown>, mapping: ReadonlyMap<string, string>, ignored: Set<string>, csv: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const field = mapping.get(key) ?? key;
    if (!FIELDS.has(field)) {
      ignored.add(key);
      continue;
    }
    if (csv && (value === '' || value === undefined)) continue;
    out[field] = csv ? typedCell(field, String(value)) : value;
  }
  return out;
}

/** Counts and hashes the bytes going through, and stops the upload past `limit`. */
function meter(limit: number) {
  const hash = createHash('sha256');
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limit) return done(new FileTooLargeError(`the file is larger than ${limit} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { transform, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}

/**
 * Reads an uploaded file as it streams in: CSV with a header line (csv-parse) or one JSON object
 * per line. A line that cannot be read is a record with its errors, never the end of the file.
 */
export async function readImportFile(body: Readable, format: ImportFormat, mapping: ReadonlyMap<string, string>, maxBytes: number): Promise<ReadFile> {
  const records: ImportRecord[] = [];
  const ignored = new Set<string>();
  const metered = meter(maxBytes);
  if (format === 'csv') {
    const parser = parse({ columns: true, bom: true, skip_empty_lines: true, trim: false, info: true, skip_records_with_error: true });
    parser.on('skip', (error: Error & { lines?: number }) => {
      records.push({ line: error.lines ?? records.length + 2, errors: [{ field: '/', message: `not a CSV record: ${error.message}` }] });
    });
    const collect = new Transform({
      objectMode: true,
      transform({ record, info }: { record: Record<string, string>; info: { lines: number } }, _encoding, done) {
        records.push({ line: info.lines, raw: mapped(record, mapping, ignored, true) });
        done();
      },
    });
    await pipeline(body, metered.transform, parser, collect);
  } else {
    let rest = '';
    let line = 0;
    // a character split between two chunks is put together again
    const decoder = new StringDecoder('utf8');
    const take = (text: string) => {
      line += 1;
      if (text.trim() === '') return;
      try {
        const value = JSON.parse(text) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) records.push({ line, errors: [{ field: '/', message: 'must be a JSON object' }] });
        else records.push({ line, raw: mapped(value as Record<string, unknown>, mapping, ignored, false) });
      } catch (error) {
        records.push({ line, errors: [{ field: '/', message: `not JSON: ${(error as Error).message}` }] });
      }
    };
    const split = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const lines = (rest + decoder.write(chunk)).split('\n');
        rest = lines.pop() ?? '';
        lines.forEach(take);
        done();
      },
      flush(done) {
        rest += decoder.end();
        if (rest !== '') take(rest);
        done();
      },
    });
    await pipeline(body, metered.transform, split);
  }
  return { records, ignored: [...ignored].sort(), ...metered.result() };
}
