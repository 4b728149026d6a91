import { reconcilePendingPayments } from '../services/payments.js';
import type { Job } from './job.js';

/** Payments still pending after RECONCILE_AFTER_SECONDS asked of their provider, settled like a confirm. */
export const reconcileJob: Job = {
  name: 'reconcile',
  run: (ctx, env) => reconcilePendingPayments(ctx, { olderThanSeconds: env.reconcileAfterSeconds, limit: 200 }),
};
