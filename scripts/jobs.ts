import { pino } from 'pino';
import { connectRedis } from '../shell/redis.js';
import { loadConfig } from '../shell/config.js';
import { createContext } from '../shell/context.js';
import { openDatabase } from '../shell/db.js';
import { JOB_NAMES, type JobName } from '../shell/jobs/job.js';
import { JOBS } from '../shell/jobs/jobs.js';
import { createJobQueue, enqueueEmail, queueConnection, queuePrefix } from '../shell/jobs/queue.js';
import { inlineJobEnv, mailerFor } from '../shell/jobs/runtime.js';
import { runCommand } from './run-command.js';

/**
 * Operator command for the background jobs.
 *   npm run jobs -- status       per queue: waiting/active/failed/delayed counts, each scheduler's next
 *                                and last run, the last failures (JOBS_MODE=queue)
 *   npm run jobs -- run <job>    runs one job now in this process and prints its counts
 * Jobs: expire, reconcile, cleanup, relay, email.
 */

const usage = `usage: npm run jobs -- status | run <${JOB_NAMES.join('|')}>
       node dist/scripts/jobs.js status | run <job>     (compiled, as in the Docker image)

  status      per queue: waiting/active/failed/delayed counts, each scheduler's next and last run,
              the last failures (JOBS_MODE=queue)
  run <job>   run one job now in this process and print its counts

Reads the application's configuration (loadConfig), like the API and the worker.`;

async function status(): Promise<number> {
  const config = loadConfig(process.env);
  if (config.JOBS_MODE !== 'queue' || !config.REDIS_URL) {
    process.stdout.write(`JOBS_MODE=${config.JOBS_MODE}: there is no queue; ${config.JOBS_MODE === 'inline' ? `the API process runs every job each ${config.JOBS_SWEEP_SECONDS} s` : 'no jobs run'}\n`);
    return 0;
  }
  const queue = createJobQueue(queueConnection(config.REDIS_URL), queuePrefix(config));
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'delayed', 'completed');
    process.stdout.write(`queue ${queue.name} (prefix ${queuePrefix(config)})\n`);
    process.stdout.write(`  waiting ${counts.waiting}  active ${counts.active}  failed ${counts.failed}  delayed ${counts.delayed}  completed ${counts.completed}\n`);
    process.stdout.write('schedulers\n');
    const schedulers = await queue.getJobSchedulers();
    if (schedulers.length === 0) process.stdout.write('  none registered (is a worker running? it registers them at start)\n');
    const completed = await queue.getJobs(['completed'], 0, 200);
    for (const s of schedulers.sort((a, b) => a.name.localeCompare(b.name))) {
      const last = completed.filter((j) => j.name === s.name && j.finishedOn).sort((a, b) => b.finishedOn! - a.finishedOn!)[0];
      const next = s.next ? new Date(s.next).toISOString() : '-';
      const lastRun = last?.finishedOn ? `${new Date(last.finishedOn).toISOString()} ${JSON.stringify(last.returnvalue ?? {})}` : 'never';
      process.stdout.write(`  ${s.name.padEnd(10)} every ${Number(s.every ?? 0) / 1000}s  next ${next}  last ${lastRun}\n`);
    }
    const failed = await queue.getJobs(['failed'], 0, 4);
    process.stdout.write(`last failures${failed.length === 0 ? ': none' : ''}\n`);
    for (const j of failed) {
      process.stdout.write(`  ${j.finishedOn ? new Date(j.finishedOn).toISOString() : '-'} ${j.name} (${j.id}) after ${j.attemptsMade} attempts: ${j.failedReason}\n`);
    }
    return 0;
  } finally {
    await queue.close();
  }
}

async function run(name: string | undefined): Promise<number> {
  if (!name || !(JOB_NAMES as readonly string[]).includes(name)) {
    process.stderr.write(`unknown job "${name ?? ''}"\n${usage}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  const log = pino({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  const database = await openDatabase(config);
  const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL) : null;
  const mailer = mailerFor(config);
  const queue = config.JOBS_MODE === 'queue' && config.REDIS_URL ? createJobQueue(queueConnection(config.REDIS_URL), queuePrefix(config)) : null;
  try {
    const ctx = createContext(config, { db: database.db, redis }, log);
    // With a queue, e-mails are handed to the workers as usual; without one they are sent from here.
    const env = queue ? { reconcileAfterSeconds: config.RECONCILE_AFTER_SECONDS, deliverEmail: mailer ? enqueueEmail(queue) : null } : inlineJobEnv(ctx, config, mailer);
    const started = Date.now();
    const counts = await JOBS[name as JobName].run(ctx, env);
    process.stdout.write(`${name}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing to do'} (${Date.now() - started} ms)\n`);
    return 0;
  } finally {
    await queue?.close();
    await mailer?.close();
    redis?.disconnect();
    await database.close();
  }
}

runCommand('jobs', async () => {
  const [command, arg] = process.argv.slice(2);
  if (command === 'status') return status();
  if (command === 'run') return run(arg);
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  process.stderr.write(`${usage}\n`);
  return 2;
}, usage);
