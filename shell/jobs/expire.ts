import { expireOverdueOrders } from '../services/orders.js';
import type { Job } from './job.js';

/** Unpaid orders past payment_due_by → expired, stock back, pending payments cancelled, the customer told. */
export const expireJob: Job = {
  name: 'expire',
  run: async (ctx) => ({ expired: (await expireOverdueOrders(ctx, { limit: 200 })).length }),
};
