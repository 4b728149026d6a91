import { cleanupJob } from './cleanup.js';
import { emailJob } from './email.js';
import { expireJob } from './expire.js';
import type { Job, JobName } from './job.js';
import { reconcileJob } from './reconcile.js';
import { relayJob } from './relay.js';

/** Every job, by name: what the inline runner, the worker and `npm run jobs -- run <name>` run. */
export const JOBS: Record<JobName, Job> = {
  expire: expireJob,
  reconcile: reconcileJob,
  cleanup: cleanupJob,
  relay: relayJob,
  email: emailJob,
};
