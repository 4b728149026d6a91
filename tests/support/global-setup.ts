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

/** A set-up problem: one line naming the variable (or the source) to fix. */
class SetupProblem extends Error {}
const setupError = (message: string) => new SetupProblem(message);

/** The first line of an error's message (an AggregateError from a refused connection has none: its code then). */
const reason = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0] || ((error as NodeJS.ErrnoException).code ?? error.name) : String(error));

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Where the PostgreSQL URL came from, for messages: the variable to fix, or how it was found. */
type Found = { url: string; source: string };

async function findPostgres(stops: Stoppable[]): Promise<Found> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    if (!/^postgres(ql)?:\/\//.test(given)) throw setupError(`TEST_DATABASE_URL: must be a postgres:// URL (got "${given}")`);
    return { url: given, source: 'TEST_DATABASE_URL' };
  }
  let dockerProblem: string;
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('postgres:15-alpine')
      .withEnvironment({ POSTGRES_PASSWORD: 'postgres' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    stops.push(container);
    return { url: `postgres://postgres:postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`, source: 'the Testcontainers PostgreSQL' };
  } catch (error) {
    dockerProblem = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  }
  if (await reachable(LOCAL_POSTGRES)) return { url: LOCAL_POSTGRES, source: `the local PostgreSQL (${LOCAL_POSTGRES})` };
  throw setupError(
    `TEST_DATABASE_URL: not set, and no PostgreSQL found: the API tests need one. Set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres), ` +
      `run a local server on 127.0.0.1:5432, or provide a Docker engine for Testcontainers (${dockerProblem}).`,
  );
}

/** Connects as the administrator of the test server; a failure names the variable (or the source) to fix. */
async function connectAdmin({ url, source }: Found): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    return admin;
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw setupError(`${source}: cannot connect to PostgreSQL at ${shown(url)} (${reason(error)}); the API tests need a server they can create databases on`);
  }
}

async function findRedis(): Promise<string | null> {
  const given = process.env.TEST_REDIS_URL;
  if (given) {
    if (!(await redisReachable(given))) throw setupError(`TEST_REDIS_URL: cannot connect to Redis at ${shown(given)}; unset it to run the Redis tests against a local Redis or skip them`);
    return given;
  }
  return (await redisReachable(LOCAL_REDIS)) ? LOCAL_REDIS : null;
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A set-up problem is printed as its one line and ends the run with exit code 1: thrown, the runner
 * would print it with a stack after a misleading "No test files found". The unit tests do not depend
 * on it: `npm test` runs the unit project first, in its own run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    return await prepare(project);
  } catch (error) {
    if (!(error instanceof SetupProblem)) throw error;
    process.stderr.write(`\nAPI tests not run: ${error.message}\n`);
    process.exit(1);
  }
}

async function prepare(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = await findRedis(); // first: a wrong TEST_REDIS_URL then leaves no container behind
  const stops: Stoppable[] = [];
  const found = await findPostgres(stops);
  const base = found.url;
  const runId = randomBytes(4).toString('hex');
  const template = `nexus_tpl_${runId}`;

  const admin = await connectAdmin(found);
  try {
    await admin.query(`CREATE DATABASE ${template}`);
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw setupError(`${found.source}: connected to ${shown(base)} but cannot create a database (${reason(error)}); the API tests need a role with CREATEDB`);
  }
  const handle = openPostgres(databaseUrl(base, template), 2);
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }

  project.provide('databaseUrl', base);
  project.provide('templateDatabase', template);
  project.provide('runId', runId);
  project.provide('redisUrl', redisUrl);

  return async () => {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`nexus_%${runId}%`]);
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end();
    for (const s of stops) await s.stop();
  };
}
