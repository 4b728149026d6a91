import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotencyRef, IdempotentOutcome } from '../idempotency.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

/** The HTTP side of Idempotency-Key (API.md, Conventions): what the route reads and how it answers. */

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? {});
}

/** The request's key and the hash of what makes two requests "the same": method, path (no trailing slash or query) and body. */
export function idempotencyOf(request: FastifyRequest): IdempotencyRef | null {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') return null;
  const path = request.url.split('?')[0]!.replace(/\/+$/, '');
  return { key, requestHash: createHash('sha256').update(`${request.method}\n${path}\n${canonical(request.body)}`).digest('hex') };
}

/** Sends an outcome, marking replays and giving problems their content type. */
export function sendOutcome(reply: FastifyReply, outcome: IdempotentOutcome): FastifyReply {
  if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
  if (outcome.status >= 400) reply.type(PROBLEM_CONTENT_TYPE);
  return reply.code(outcome.status).send(outcome.body);
}
