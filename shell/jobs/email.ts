import { notificationsToEmail } from '../services/outbox.js';
import type { Job } from './job.js';

/** The e-mail sweep: notifications not yet e-mailed (a hand-off lost, a send that failed) are handed over again. */
export const emailJob: Job = {
  name: 'email',
  run: async (ctx, env) => {
    if (!env.deliverEmail) return { handed: 0, failed: 0 };
    const ids = await notificationsToEmail(ctx, 500);
    let failed = 0;
    for (const id of ids) await env.deliverEmail(id).catch(() => failed++);
    return { handed: ids.length - failed, failed };
  },
};
