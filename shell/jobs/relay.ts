import { relayOutbox } from '../services/outbox.js';
import type { Job } from './job.js';

/** Outbox rows → one notification per user concerned; with SMTP configured, an e-mail for each. */
export const relayJob: Job = {
  name: 'relay',
  run: async (ctx, env) => {
    const relayed = await relayOutbox(ctx, { limit: 1000 });
    if (env.deliverEmail) for (const id of relayed.notifications) await env.deliverEmail(id);
    return { events: relayed.events, notifications: relayed.notifications.length };
  },
};
