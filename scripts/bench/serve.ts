import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { connectRedis } from '../../shell/redis.js';
import { buildApp } from '../../shell/app.js';
import { memoryCache, noCache } from '../../shell/cache.js';
import { loadConfig } from '../../shell/config.js';
import { openPostgres } from '../../shell/db.js';
import { RETRYABLE_SQLSTATES } from '../../shell/tx.js';

/**
 * One server under test, as a child process of scripts/bench/run.ts, so the load generator and the server
 * never share an event loop (and `node --cpu-prof` profiles the server alone):
 *
 *   app            the API as built by buildApp, with the catalog cache on REDIS_URL
 *   app-uncached   the same API with a cache that never stores: every read goes to the database
 *   app-memory     the same API with the in-process cache (as `npm start` without REDIS_URL, one process)
 *   bare-http      node:http answering each path with bytes held in memory (sent by the parent)
 *   bare-fastify   one Fastify route answering the same bytes
 *
 * Talks to the parent over IPC: {type:'listening', port} once up; answers {type:'stats'} with the queries
 * and serialization retries (40001/40P01) seen so far; {type:'stop'} closes and exits, so a CPU profile is written.
 */

export type ServeMode = 'app' | 'app-uncached' | 'app-memory' | 'bare-http' | 'bare-fastify';

export interface StaticRoute {
  path: string;
  contentType: string;
  body: string;
}

export type ToServer = { type: 'routes'; routes: StaticRoute[] } | { type: 'stats' } | { type: 'stop' };
export type FromServer = { type: 'listening'; port: number } | { type: 'stats'; queries: number; retries: number; retriedStatements: Record<string, number> };

const send = (message: FromServer) => process.send?.(message);

function routesFromParent(): Promise<Map<string, { contentType: string; body: Buffer }>> {
  return new Promise((resolve) => {
    const onMessage = (message: ToServer) => {
      if (message.type !== 'routes') return;
      process.off('message', onMessage);
      resolve(new Map(message.routes.map((r) => [r.path, { contentType: r.contentType, body: Buffer.from(r.body) }])));
    };
    process.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  const mode = process.argv[2] as ServeMode;
  let queries = 0;
  let retries = 0;
  // Which statements failed with 40001/40P01 (their first words): where the retries come from.
  const retriedStatements: Record<string, number> = {};
  let close: () => Promise<void>;
  let port: number;

  if (mode === 'bare-http') {
    const routes = await routesFromParent();
    const server = createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': route.contentType, 'content-length': route.body.length });
      res.end(route.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  } else if (mode === 'bare-fastify') {
    const routes = await routesFromParent();
    const app = Fastify({ logger: false });
    app.get('*', async (request, reply) => {
      const route = routes.get(request.url);
      if (!route) return reply.code(404).send();
      return reply.type(route.contentType).send(route.body);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    close = () => app.close();
  } else if (mode === 'app' || mode === 'app-uncached' || mode === 'app-memory') {
    const config = loadConfig(process.env);
    if (!config.DATABASE_URL) throw new Error('serve: DATABASE_URL is required');
    const handle = openPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE, (event) => {
      queries++;
      if (event.level === 'error' && RETRYABLE_SQLSTATES.has(String((event.error as { code?: unknown }).code))) {
        retries++;
        const statement = event.query.sql.replace(/\s+/g, ' ').slice(0, 60);
        retriedStatements[statement] = (retriedStatements[statement] ?? 0) + 1;
      }
    });
    const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL) : null;
    const app = await buildApp(config, { db: handle.db, redis, logger: false, ...(mode === 'app-uncached' ? { cache: noCache() } : mode === 'app-memory' ? { cache: memoryCache() } : {}) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    close = async () => {
      await app.close();
      redis?.disconnect();
      await handle.close();
    };
  } else {
    throw new Error(`serve: unknown mode ${String(mode)}`);
  }

  process.on('message', (message: ToServer) => {
    if (message.type === 'stats') send({ type: 'stats', queries, retries, retriedStatements: { ...retriedStatements } });
    if (message.type === 'stop') void close().finally(() => process.exit(0));
  });
  // The parent going away (Ctrl-C, a crash) takes this server with it.
  process.on('disconnect', () => void close().finally(() => process.exit(0)));
  send({ type: 'listening', port });
}

main().catch((error: unknown) => {
  process.stderr.write(`serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
