import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest, openPostgres } from '../../shell/db.js';

/**
 * Finds PostgreSQL (and Redis) for the API tests, builds one migrated template database, and hands
 * its name to the test files, which each clone it (CREATE DATABASE … TEMPLATE) so they can run in
 * parallel without sharing rows.
 *
 * PostgreSQL: TEST_DATABASE_URL, else a Testcontainers container where a Docker engine exists, else
 * the conventional local server at 127.0.0.1:5432. Redis likewise from TEST_REDIS_URL.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    templateDatabase: string;
    runId: string;
    redisUrl: string | null;
  }
}

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisReachable(url: string): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

type Stoppable = { stop(): Promise<unknown> };

async function findPostgres(stops: Stoppable[]): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  let dockerProblem: string;
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('postgres:15-alpine')
      .withEnvironment({ POSTGRES_PASSWORD: 'postgres' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    stops.push(container);
    return `postgres://postgres:postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  } catch (error) {
    dockerProblem = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  }
  if (await reachable(LOCAL_POSTGRES)) return LOCAL_POSTGRES;
  throw new Error(
    `The API tests need PostgreSQL. Set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres), ` +
      `run a local server on 127.0.0.1:5432, or provide a Docker engine for Testcontainers (${dockerProblem}).`,
  );
}

async function findRedis(): Promise<string | null> {
  if (process.env.TEST_REDIS_URL) return process.env.TEST_REDIS_URL;
  return (await redisReachable(LOCAL_REDIS)) ? LOCAL_REDIS : null;
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Stoppable[] = [];
  const base = await findPostgres(stops);
  const runId = randomBytes(4).toString('hex');
  const template = `nexus_tpl_${runId}`;

  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const handle = openPostgres(databaseUrl(base, template), 2);
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }

  project.provide('databaseUrl', base);
  project.provide('templateDatabase', template);
  project.provide('runId', runId);
  project.provide('redisUrl', await findRedis());

  return async () => {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`nexus_%${runId}%`]);
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end();
    for (const s of stops) await s.stop();
  };
}
