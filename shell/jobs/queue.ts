import { Queue, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { emailNotification } from '../services/outbox.js';
import type { Mailer } from '../mail/mailer.js';
import { JOB_NAMES, type JobEnv, type JobName } from './job.js';
import { JOBS } from './jobs.js';

/**
 * JOBS_MODE=queue: BullMQ on Redis. One queue; a Job Scheduler per job (every JOBS_SWEEP_SECONDS),
 * registered idempotently by every worker at start; e-mails as one job per notification (job id = the
 * notification id, so it is never queued twice). Failed jobs are retried with exponential backoff and
 * kept for inspection; a stalled job (its worker died) is picked up again by another worker. Every job is
 * a conditional transition, so a re-run changes nothing that already happened.
 */

export const QUEUE_NAME = 'nexus-jobs';

const sweepJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 1000 },
};

const emailJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

/** Redis connection settings BullMQ needs: workers block, so no per-request retry limit. */
export function queueConnection(redisUrl: string): ConnectionOptions {
  return { url: redisUrl, maxRetriesPerRequest: null } as ConnectionOptions;
}

export const queuePrefix = (config: Pick<Config, 'REDIS_PREFIX'>) => `${config.REDIS_PREFIX}bull`;

export function createJobQueue(connection: ConnectionOptions, prefix: string): Queue {
  const queue = new Queue(QUEUE_NAME, { connection, prefix });
  // Connection errors while Redis is away: BullMQ reconnects by itself, readiness reports it, and an
  // unhandled 'error' would print raw stack traces.
  queue.on('error', () => undefined);
  return queue;
}

/** Registers (or updates) one scheduler per sweep job; safe to call from every worker. */
export async function registerSchedulers(queue: Queue, sweepSeconds: number): Promise<void> {
  for (const name of JOB_NAMES) {
    await queue.upsertJobScheduler(name, { every: sweepSeconds * 1000 }, { name, opts: sweepJobOptions });
  }
}

/**
 * Runs the relay soon: a waiting wake-up absorbs further ones (one deduplication id) until a worker takes
 * it, and a wake-up while one runs is kept and run after it (keepLastIfActive), since the running relay
 * may already have claimed its last batch before the commit that woke it.
 */
export async function wakeRelay(queue: Queue): Promise<void> {
  await queue.add('relay', {}, { ...sweepJobOptions, deduplication: { id: 'relay-wake', keepLastIfActive: true }, removeOnComplete: true, removeOnFail: true });
}

export function enqueueEmail(queue: Queue): (notificationId: string) => Promise<void> {
  return async (notificationId) => {
    await queue.add('send-email', { notificationId }, { ...emailJobOptions, jobId: `email-${notificationId}` });
  };
}

/** A worker processing every job of the queue; `close()` lets the job in hand finish. */
export function createJobWorker(ctx: AppContext, env: JobEnv, mailer: Mailer | null, connection: ConnectionOptions, prefix: string, concurrency = 1): Worker {
  return new Worker(
    QUEUE_NAME,
    async (job) => {
      if (job.name === 'send-email') {
        if (!mailer) return { skipped: 1 };
        return { [await emailNotification(ctx, mailer, (job.data as { notificationId: string }).notificationId)]: 1 };
      }
      const definition = JOBS[job.name as JobName];
      if (!definition) throw new Error(`unknown job ${job.name}`);
      const started = Date.now();
      const counts = await definition.run(ctx, env);
      ctx.log.info({ job: job.name, ...counts, ms: Date.now() - started }, `job ${job.name} done`);
      return counts;
    },
    { connection, prefix, concurrency, stalledInterval: 30_000, maxStalledCount: 2 },
  );
}
