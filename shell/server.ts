import cluster from 'node:cluster';
import closeWithGrace from 'close-with-grace';
import { connectRedis } from './redis.js';
import { pino } from 'pino';
import type { Queue } from 'bullmq';
import { buildApp } from './app.js';
import { createCache } from './cache.js';
import { claimSoleApiProcess, onShutdownRequest, runPrimary, scaleOutProblem } from './cluster.js';
import { createContext } from './context.js';
import { startInlineJobs, type InlineJobs } from './jobs/inline.js';
import { createJobQueue, queueConnection, queuePrefix, wakeRelay } from './jobs/queue.js';
import { inlineJobEnv, mailerFor } from './jobs/runtime.js';
import type { Mailer } from './mail/mailer.js';
import { loadConfigOrExit } from './config.js';
import { migrateToLatest, openDatabase, pendingMigrations } from './db.js';

/** How long an API process without Redis waits for another one on its database to stop (a restart). */
const SOLE_PROCESS_WAIT_MS = 10_000;

/**
 * Entry point: config from the environment, database, app, listen; graceful shutdown on SIGTERM/SIGINT.
 * With WEB_CONCURRENCY > 1 this process becomes the node:cluster primary (shell/cluster.ts) and each
 * worker it forks runs the rest of this function.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const scaleProblem = scaleOutProblem(config);
  if (scaleProblem) {
    process.stderr.write(`configuration error: ${scaleProblem}\n`);
    process.exit(1);
  }

  if (cluster.isPrimary && config.WEB_CONCURRENCY > 1) {
    // Pending migrations are refused here, once, rather than by each worker.
    const database = await openDatabase(config);
    const pending = await pendingMigrations(database.db).finally(() => database.close());
    if (pending.length > 0) {
      process.stderr.write(`database ${database.location} has pending migrations (${pending.join(', ')}); run \`npm run migrate\` first\n`);
      process.exit(1);
    }
    runPrimary(config, pino({ level: config.LOG_LEVEL, base: { process: 'primary', pid: process.pid } }));
    return;
  }

  const database = await openDatabase(config);
  if (database.kind === 'embedded') {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(`embedded database at ${database.location}${applied.length ? `; applied migrations: ${applied.join(', ')}` : ''}\n`);
  } else {
    const pending = await pendingMigrations(database.db);
    if (pending.length > 0) {
      process.stderr.write(`database ${database.location} has pending migrations (${pending.join(', ')}); run \`npm run migrate\` first\n`);
      await database.close();
      process.exit(1);
    }
  }

  // Without Redis the cache generation and rate-limit counters are this process's own: one API process
  // per database then, which a second one finds out at start instead of serving stale catalog answers.
  let releaseSole: (() => Promise<void>) | null = null;
  if (!config.REDIS_URL && database.kind === 'postgres' && config.DATABASE_URL) {
    releaseSole = await claimSoleApiProcess(config.DATABASE_URL, SOLE_PROCESS_WAIT_MS, () =>
      process.stdout.write(`another API process serves ${database.location} without Redis; waiting up to ${SOLE_PROCESS_WAIT_MS / 1000} s for it to stop\n`),
    );
    if (!releaseSole) {
      process.stderr.write(`configuration error: REDIS_URL: another API process serves ${database.location} without Redis; more than one API process needs REDIS_URL (shared cache generations and rate limits)\n`);
      await database.close();
      process.exit(1);
    }
  }

  const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL) : null;

  // One cache for the API and the jobs (in process without Redis), so an expiry is seen by the next read.
  const cache = createCache(redis, config.REDIS_PREFIX);
  let inline: InlineJobs | null = null;
  let queue: Queue | null = null;
  const wake = (job: 'relay') => {
    if (inline) inline.wake(job);
    else if (queue) void wakeRelay(queue).catch(() => undefined);
  };
  const app = await buildApp(config, { db: database.db, redis, cache, wake });

  let mailer: Mailer | null = null;
  if (config.JOBS_MODE === 'inline') {
    mailer = mailerFor(config);
    const ctx = createContext(config, { db: database.db, redis, cache, wake }, app.log);
    inline = startInlineJobs(ctx, inlineJobEnv(ctx, config, mailer), config.JOBS_SWEEP_SECONDS);
    app.log.info({ every: config.JOBS_SWEEP_SECONDS, smtp: mailer !== null }, 'background jobs run inline in this process');
  } else if (config.JOBS_MODE === 'queue' && config.REDIS_URL) {
    queue = createJobQueue(queueConnection(config.REDIS_URL), queuePrefix(config));
    app.log.info('background jobs run in `npm run worker` (JOBS_MODE=queue)');
  }

  let closing = false;
  const grace = closeWithGrace({ delay: 10_000 }, async ({ signal, err, manual }) => {
    closing = true;
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal: signal ?? (manual ? 'asked by the cluster primary' : undefined) }, 'shutting down');
    await app.close(); // stops accepting, lets in-flight requests finish
    await inline?.stop(); // lets a job run in flight finish
    await queue?.close();
    await mailer?.close();
    await database.close();
    await releaseSole?.();
    redis?.disconnect();
  });
  // A cluster worker is stopped by its primary (which got the SIGTERM) the same way.
  onShutdownRequest(() => {
    if (!closing) grace.close();
  });

  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
