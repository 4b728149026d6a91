import cluster, { type Worker } from 'node:cluster';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.js';

/**
 * More than one API process (DESIGN.md, "Scale"). `npm start` with WEB_CONCURRENCY=N > 1 makes this
 * process a node:cluster primary that forks N API workers sharing one listening socket; it opens no
 * database and serves nothing itself. State every process must agree on lives in PostgreSQL and Redis:
 * per-process state (the product lock queue, an in-memory cache) only sits in front of a shared guarantee.
 */

type ScaleConfig = Pick<Config, 'WEB_CONCURRENCY' | 'DATABASE_URL' | 'REDIS_URL'>;

/** Why this configuration cannot run WEB_CONCURRENCY API processes ("VARIABLE: reason", one line), or null. */
export function scaleOutProblem(config: ScaleConfig): string | null {
  const n = config.WEB_CONCURRENCY;
  if (n <= 1) return null;
  if (!config.DATABASE_URL) return `WEB_CONCURRENCY: ${n} processes need DATABASE_URL (the embedded database can be opened by one process only)`;
  if (!config.REDIS_URL) {
    return `WEB_CONCURRENCY: ${n} processes need REDIS_URL (catalog cache generations and rate-limit counters must be shared, or one process would serve what another has just changed)`;
  }
  return null;
}

/** What the primary sends a worker to make it close gracefully (the worker's own SIGTERM path). */
export const SHUTDOWN_MESSAGE = 'nexus:shutdown';

/** In an API worker: calls `close` when the primary asks it to stop. */
export function onShutdownRequest(close: () => void): void {
  if (!cluster.isWorker) return;
  process.on('message', (message) => {
    if (message === SHUTDOWN_MESSAGE) close();
  });
}

/** Longer than a worker's own graceful close (closeWithGrace, 10 s): past it, a worker still alive is killed. */
const SHUTDOWN_TIMEOUT_MS = 15_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The cluster primary: forks WEB_CONCURRENCY workers (this same entry file), restarts a worker that dies
 * once it has served (with backoff while its replacements keep failing to start), and on SIGTERM/SIGINT
 * asks every worker to close gracefully, waits for them, and exits. A worker that exits before it ever
 * listened is a start-up failure (configuration, database): the primary stops the others and exits 1.
 *
 * JOBS_MODE=inline runs the job timers in worker slot 0 only (the others get JOBS_MODE=off): jobs are safe
 * to run concurrently, but N copies would only add contention. A replacement of slot 0 takes them over.
 */
export function runPrimary(config: Pick<Config, 'WEB_CONCURRENCY' | 'JOBS_MODE'>, log: Logger): void {
  const count = config.WEB_CONCURRENCY;
  const slotOf = new Map<Worker, number>();
  const served = new Array<boolean>(count).fill(false);
  const failures = new Array<number>(count).fill(0);
  let stopping = false;
  let exitCode = 0;

  const fork = (slot: number) => {
    if (stopping) return;
    const env = config.JOBS_MODE === 'inline' && slot > 0 ? { JOBS_MODE: 'off' } : {};
    const worker = cluster.fork(env);
    slotOf.set(worker, slot);
    worker.once('listening', () => {
      served[slot] = true;
      failures[slot] = 0;
      log.info({ slot, workerPid: worker.process.pid }, 'API worker listening');
    });
  };

  const finish = () => {
    log.info({ code: exitCode }, 'all API workers stopped');
    process.exit(exitCode);
  };

  const stop = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info({ reason, workers: slotOf.size }, 'stopping API workers gracefully');
    for (const worker of slotOf.keys()) if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
    setTimeout(() => {
      log.error({ workerPids: [...slotOf.keys()].map((w) => w.process.pid) }, `API workers still running after ${SHUTDOWN_TIMEOUT_MS} ms; killing them`);
      for (const worker of slotOf.keys()) worker.process.kill('SIGKILL');
    }, SHUTDOWN_TIMEOUT_MS).unref();
    if (slotOf.size === 0) finish();
  };

  cluster.on('exit', (worker, code, signal) => {
    const slot = slotOf.get(worker);
    slotOf.delete(worker);
    if (stopping) {
      if (slotOf.size === 0) finish();
      return;
    }
    if (slot === undefined) return;
    if (!served[slot]) {
      log.error({ slot, workerPid: worker.process.pid, code, signal }, 'an API worker exited before it listened (see its error above); stopping');
      stop('start-up failure', 1);
      return;
    }
    const failed = failures[slot] ?? 0;
    const delay = failed === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** failed);
    failures[slot] = failed + 1;
    log.warn({ slot, workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'an API worker died; starting a replacement');
    setTimeout(() => fork(slot), delay);
  });

  // A second signal while stopping forces the issue.
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) return stop(signal, 0);
    log.error({ signal }, 'second signal; killing the API workers');
    for (const worker of slotOf.keys()) worker.process.kill('SIGKILL');
    process.exit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  log.info({ workers: count, jobs: config.JOBS_MODE }, `starting ${count} API workers (node:cluster)`);
  for (let slot = 0; slot < count; slot++) fork(slot);
}

const SOLE_PROCESS_LOCK = 'nexus:api-process-without-redis';

/**
 * Without Redis the catalog cache generation and the rate-limit counters live in process memory, which is
 * only right while one API process serves the database. This takes a session advisory lock saying so, on a
 * connection of its own held for the life of the process; a second API process on the same database
 * without Redis waits up to `waitMs` (the old process of a restart letting go) and is then refused.
 * Returns the release, or null when another process still holds it.
 */
export async function claimSoleApiProcess(databaseUrl: string, waitMs: number, onWait: () => void): Promise<(() => Promise<void>) | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // a lost connection loses the lock with it; nothing else to do
  await client.connect();
  const deadline = Date.now() + waitMs;
  for (let waited = false; ; waited = true) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [SOLE_PROCESS_LOCK]);
    if (rows[0]?.locked) return () => client.end();
    if (Date.now() >= deadline) {
      await client.end();
      return null;
    }
    if (!waited) onWait();
    await new Promise((r) => setTimeout(r, 250));
  }
}
