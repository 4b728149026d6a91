import type { AppContext } from '../context.js';

/** What a job may need beyond the services' context: how to hand an e-mail to whoever delivers it. */
export interface JobEnv {
  /** Set when SMTP_URL is configured: queue mode adds an e-mail job, inline mode sends at once. */
  deliverEmail: ((notificationId: string) => Promise<void>) | null;
  /** Payments still pending this long are asked of their provider. */
  reconcileAfterSeconds: number;
}

/** A background job: a thin call into services; its summary (counts) is logged after each run. */
export interface Job {
  name: JobName;
  run(ctx: AppContext, env: JobEnv): Promise<Record<string, number>>;
}

export const JOB_NAMES = ['expire', 'reconcile', 'cleanup', 'relay', 'email'] as const;
export type JobName = (typeof JOB_NAMES)[number];
