import { cleanUp } from '../services/maintenance.js';
import type { Job } from './job.js';

/** Idempotency keys, refresh tokens, sent outbox rows and webhook payloads past their retention. */
export const cleanupJob: Job = {
  name: 'cleanup',
  run: async (ctx) => ({ ...(await cleanUp(ctx)) }),
};
