import fastifyUnderPressure from '@fastify/under-pressure';
import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { HttpProblem } from './problem.js';

/**
 * How long a connection may take, and when the process sheds load. Node enforces the request and headers
 * timeouts by sweeping its connections every `connectionsCheckingInterval`; its default (30 s) would let a
 * slow client overstay its timeout by up to that much, so the sweep runs at a quarter of the shorter one.
 */
export function connectionOptions(config: Config): Pick<FastifyHttpOptions<Server>, 'requestTimeout' | 'connectionTimeout' | 'keepAliveTimeout' | 'http'> {
  const shortest = Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS);
  return {
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(25, Math.min(30_000, Math.floor(shortest / 4))),
    },
  };
}

/**
 * Liveness answers even when the process is saturated: an orchestrator must not restart a busy process.
 * So does readiness, with its own body (what it checks: the database and Redis), never a shed 503 that
 * its schema does not describe.
 */
const ALWAYS_ANSWERED = new Set(['/healthz', '/readyz']);

/**
 * Load shedding with @fastify/under-pressure: while the event loop is saturated (mean delay or
 * utilisation over the last sample above the limit) or memory is over its limits, every request but
 * /healthz answers 503 busy (problem+json) with Retry-After, instead of queueing work the process cannot
 * do in time. Off with UNDER_PRESSURE_ENABLED=false (the test harness does, so a loaded CI machine
 * does not turn answers into 503s).
 */
export async function registerLoadShedding(app: FastifyInstance, config: Config): Promise<void> {
  if (!config.UNDER_PRESSURE_ENABLED) return;
  const retryAfter = String(config.UNDER_PRESSURE_RETRY_AFTER_SECONDS);
  await app.register(fastifyUnderPressure, {
    maxEventLoopDelay: config.UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxEventLoopUtilization: config.UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION,
    eventLoopUtilizationMode: 'interval',
    maxHeapUsedBytes: config.UNDER_PRESSURE_MAX_HEAP_USED_BYTES,
    maxRssBytes: config.UNDER_PRESSURE_MAX_RSS_BYTES,
    sampleInterval: config.UNDER_PRESSURE_SAMPLE_INTERVAL_MS,
    retryAfter: config.UNDER_PRESSURE_RETRY_AFTER_SECONDS,
    // Resolving lets the request through; rejecting hands the problem to the error handler.
    pressureHandler: async (request, _reply, type) => {
      if (ALWAYS_ANSWERED.has(request.routeOptions.url ?? '')) return;
      request.log.warn({ pressure: type }, 'shedding load: answering 503 busy');
      throw new HttpProblem('busy', 'The server is overloaded; retry later', {}, { 'Retry-After': retryAfter });
    },
  });
}
