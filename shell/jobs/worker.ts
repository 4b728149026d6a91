import { utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connectRedis } from '../redis.js';
import { loadConfigOrExit } from '../config.js';
import { createContext } from '../context.js';
import { openDatabase, pendingMigrations } from '../db.js';
import { createJobQueue, createJobWorker, enqueueEmail, queueConnection, queuePrefix, registerSchedulers, wakeRelay } from './queue.js';
import { mailerFor } from './runtime.js';

export const HEARTBEAT_FILE = join(tmpdir(), 'nexus-worker.alive');

/**
 * `npm run worker`: processes the job queue (JOBS_MODE=queue, which needs REDIS_URL and a PostgreSQL
 * DATABASE_URL). Run as many as you like. SIGTERM/SIGINT: the job in hand finishes, then it exits.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  if (config.JOBS_MODE !== 'queue' || !config.REDIS_URL || !config.DATABASE_URL) {
    process.stderr.write('the worker runs queued jobs: set REDIS_URL and DATABASE_URL (PostgreSQL) and leave JOBS_MODE unset or "queue"\n');
    process.exit(1);
  }
  const log = pino({ level: config.LOG_LEVEL, base: { process: 'worker' } });
  const database = await openDatabase(config);
  const pending = await pendingMigrations(database.db);
  if (pending.length > 0) {
    log.error({ pending }, 'the database has pending migrations; run `npm run migrate` first');
    await database.close();
    process.exit(1);
  }

  const connection = queueConnection(config.REDIS_URL);
  const prefix = queuePrefix(config);
  const queue = createJobQueue(connection, prefix);
  const redis = connectRedis(config.REDIS_URL);
  const mailer = mailerFor(config);
  const ctx = createContext(config, { db: database.db, redis, wake: () => void wakeRelay(queue).catch(() => undefined) }, log);
  const worker = createJobWorker(ctx, { reconcileAfterSeconds: config.RECONCILE_AFTER_SECONDS, deliverEmail: mailer ? enqueueEmail(queue) : null }, mailer, connection, prefix);
  worker.on('failed', (job, error) => log.warn({ job: job?.name, id: job?.id, attempts: job?.attemptsMade, err: error }, 'job failed'));
  await registerSchedulers(queue, config.JOBS_SWEEP_SECONDS);
  log.info({ queue: queue.name, every: config.JOBS_SWEEP_SECONDS, smtp: mailer !== null }, 'worker started');

  // Liveness for the container healthcheck: the file's mtime stays fresh while the worker is connected
  // and taking jobs (docker-compose.yml checks it is under 60 s old).
  const beat = () => {
    if (worker.isRunning() && !worker.closing) void utimes(HEARTBEAT_FILE, new Date(), new Date()).catch(() => writeFile(HEARTBEAT_FILE, '').catch(() => undefined));
  };
  beat();
  const heartbeat = setInterval(beat, 10_000);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    clearInterval(heartbeat);
    log.info({ signal }, 'worker shutting down; finishing the job in hand');
    await worker.close();
    await queue.close();
    await mailer?.close();
    redis.disconnect();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
