import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { EnvelopeSchema, type Envelope, type MessageOf, type MessageSchemas } from '@trackme/contracts';
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
  return raw;
}

/** The payload of an envelope, checked against its type's schema; anything else is poison. */
export function checkedData<S extends TSchema>(envelope: Envelope, schema: S, reason = 'invalid_schema'): Static<S> {
  if (!Value.Check(schema, envelope.data)) {
    throw new PoisonMessageError(reason, `invalid ${envelope.type}`, { errors: errorLines(schema, envelope.data) });
  }
  return envelope.data;
}

/**
 * The envelope as one of the messages of `schemas`, its data checked against its type's schema:
 * a type the map does not have is poison (`unknown_type`), and so is data that does not match.
 */
export function checkedMessage<S extends MessageSchemas>(
  envelope: Envelope,
  schemas: S,
  options: { reason?: string; kind?: string } = {},
): MessageOf<S> {
  const schema = Object.hasOwn(schemas, envelope.type) ? schemas[envelope.type] : undefined;
  if (!schema) throw new PoisonMessageError('unknown_type', `unknown ${options.kind ?? 'message'} type "${envelope.type}"`);
  checkedData(envelope, schema, options.reason);
  return envelope as MessageOf<S>;
}

/** Parses and checks a message in one step: {@link parseEnvelope}, then {@link checkedMessage}. */
export function parseMessage<S extends MessageSchemas>(message: InboundMessage, schemas: S, options: { reason?: string; kind?: string } = {}): MessageOf<S> {
  return checkedMessage(parseEnvelope(message), schemas, options);
}
