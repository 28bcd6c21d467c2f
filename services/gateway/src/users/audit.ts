import type { FastifyRequest } from 'fastify';

export type AuditEvent = 'signed_in' | 'sign_in_failed' | 'refresh_reused' | 'signed_out' | 'user_created' | 'role_changed' | 'password_changed' | 'user_deleted';

/** Who acts: the verified caller, or for sign-ins the user it is about (`anonymous` when unknown). */
export interface AuditActor {
  subject: string;
  role?: string | undefined;
  ip: string;
}

export const actorOfRequest = (request: FastifyRequest): AuditActor => ({ subject: request.caller?.subject ?? 'anonymous', role: request.caller?.role, ip: request.ip });

/**
 * One `audit` line per security event, with the actor, on the request's logger (so it carries the
 * correlation id). Emails in it are masked by the logger; passwords and tokens never appear.
 */
export function audit(request: FastifyRequest, event: AuditEvent, actor: AuditActor, details: Record<string, unknown> = {}): void {
  request.log.info({ audit: { event, actor, at: new Date().toISOString(), ...details } }, `audit ${event}`);
}
