import type { AppContext } from '../context.js';
import type { JobEnv, JobName } from './job.js';
import { JOBS } from './jobs.js';

/**
 * JOBS_MODE=inline: the same jobs on timers inside the API process (the two-command setup, no Redis).
 * Every JOBS_SWEEP_SECONDS each job runs once, never two runs of one job at a time; `wake` runs one
 * soon (the relay after a commit wrote an outbox row). `stop` clears the timers and waits for runs in
 * flight.
 */
export interface InlineJobs {
  wake(job: JobName): void;
  stop(): Promise<void>;
}

export function startInlineJobs(ctx: AppContext, env: JobEnv, sweepSeconds: number): InlineJobs {
  const running = new Map<JobName, Promise<void>>();
  const again = new Set<JobName>();
  let stopped = false;

  const run = (name: JobName): void => {
    if (stopped) return;
    if (running.has(name)) {
      again.add(name);
      return;
    }
    const started = Date.now();
    const done = JOBS[name]
      .run(ctx, env)
      .then(
        (counts) => {
          if (Object.values(counts).some((n) => n > 0)) ctx.log.info({ job: name, ...counts, ms: Date.now() - started }, `job ${name} done`);
        },
        (error: unknown) => ctx.log.error({ job: name, err: error }, `job ${name} failed; the next sweep retries it`),
      )
      .finally(() => {
        running.delete(name);
        if (again.delete(name)) run(name);
      });
    running.set(name, done);
  };

  const timers = (Object.keys(JOBS) as JobName[]).map((name) => setInterval(() => run(name), sweepSeconds * 1000));
  return {
    wake: (name) => setImmediate(() => run(name)),
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running.values()]);
    },
  };
}
