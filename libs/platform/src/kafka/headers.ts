import type { IHeaders } from 'kafkajs';

export type StringHeaders = Record<string, string>;

/** kafkajs hands headers over as Buffers (or arrays of them); handlers want plain strings. */
export function decodeHeaders(headers: IHeaders | undefined): StringHeaders {
  const out: StringHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}
