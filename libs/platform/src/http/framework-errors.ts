import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problem, sendProblem } from './problem.js';

/**
 * Errors fastify raises before a route runs (a URL that does not decode, an overlong parameter)
 * answer problem+json like every other error, instead of fastify's own JSON shape.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const code = error.code === 'FST_ERR_BAD_URL' ? 'bad_url' : (error.code ?? 'bad_request').toLowerCase();
  // the message of FST_ERR_BAD_URL quotes the whole path: name the problem, not the input
  void sendProblem(request, reply, problem(status, code, error.code === 'FST_ERR_BAD_URL' ? 'The URL path is not valid percent-encoded UTF-8' : undefined));
}

/** What a malformed request that never became a request gets: Node's parser refused it. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'header_fields_too_large', 'The request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'The request was not received in time'],
  ERR_HTTP_HEADERS_TIMEOUT: [408, 'request_timeout', 'The request headers were not received in time'],
};

/**
 * `clientError` handler: Node's HTTP parser refused the bytes (oversized headers, invalid
 * characters, a timeout). Written straight to the socket as problem+json, then the socket closes.
 */
export function clientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'malformed_request', 'The request is not valid HTTP/1.1'];
  const body = JSON.stringify({ ...problem(status, code, detail) });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
