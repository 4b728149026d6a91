import closeWithGrace from 'close-with-grace';
import { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { buildApp } from './app.js';
import { createCache } from './cache.js';
import { createContext } from './context.js';
import { startInlineJobs, type InlineJobs } from './jobs/inline.js';
import { createJobQueue, queueConnection, queuePrefix, wakeRelay } from './jobs/queue.js';
import { inlineJobEnv, mailerFor } from './jobs/runtime.js';
import type { Mailer } from './mail/mailer.js';
import { ConfigError, loadConfig } from './config.js';
import { migrateToLatest, openDatabase, pendingMigrations } from './db.js';

/** Entry point: config from the environment, database, app, listen; graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
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

  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 }) : null;
  redis?.on('error', () => undefined); // readiness reports it; ioredis reconnects by itself

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

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close(); // stops accepting, lets in-flight requests finish
    await inline?.stop(); // lets a job run in flight finish
    await queue?.close();
    await mailer?.close();
    await database.close();
    redis?.disconnect();
  });

  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
