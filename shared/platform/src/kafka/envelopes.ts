import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { EnvelopeSchema, type Envelope } from '@trackme/contracts';
import { PoisonMessageError } from '../errors.js';
import type { InboundMessage } from './consumer.js';

function errorLines(schema: TSchema, value: unknown): string[] {
  return Value.Errors(schema, value).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** Parses the envelope of a message trackme produced; a malformed one is poison (dead-lettered with the reason). */
export function parseEnvelope(message: InboundMessage): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new PoisonMessageError('invalid_json', `message value is not JSON: ${(error as Error).message}`);
  }
  // Check is the cheap path for every message; the error list is built only for a bad one
  if (!Value.Check(EnvelopeSchema, raw)) {
    throw new PoisonMessageError('invalid_envelope', 'message is not a trackme envelope', { errors: errorLines(EnvelopeSchema, raw) });
  }
  return raw as Envelope;
}

/** The payload of an envelope, checked against its type's schema; anything else is poison. */
export function checkedData<T>(envelope: Envelope, schema: TSchema, reason = 'invalid_schema'): T {
  if (!Value.Check(schema, envelope.data)) {
    throw new PoisonMessageError(reason, `invalid ${envelope.type}`, { errors: errorLines(schema, envelope.data) });
  }
  return envelope.data as T;
}
