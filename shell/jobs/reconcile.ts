import { reconcilePendingPayments } from '../services/payments.js';
import { reconcilePendingRefunds } from '../services/refunds.js';
import type { Job } from './job.js';

/**
 * Payments still pending after RECONCILE_AFTER_SECONDS asked of their provider, settled like a confirm;
 * then refunds still pending at their provider, finished like the refund request would have. Refund
 * counts are keyed `refunds:<outcome>`.
 */
export const reconcileJob: Job = {
  name: 'reconcile',
  run: async (ctx, env) => {
    const payments = await reconcilePendingPayments(ctx, { olderThanSeconds: env.reconcileAfterSeconds, limit: 200 });
    const refunds = await reconcilePendingRefunds(ctx, { limit: 200 });
    return { ...payments, ...Object.fromEntries(Object.entries(refunds).map(([outcome, n]) => [`refunds:${outcome}`, n])) };
  },
};
