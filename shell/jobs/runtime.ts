import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { createSmtpMailer, type Mailer } from '../mail/mailer.js';
import { emailNotification } from '../services/outbox.js';
import type { JobEnv } from './job.js';

/** The mailer SMTP_URL configures, or null (in-app notifications only). */
export function mailerFor(config: Config): Mailer | null {
  return config.SMTP_URL ? createSmtpMailer(config.SMTP_URL, config.MAIL_FROM) : null;
}

/** Inline delivery: send now; a failure is recorded on the notification and retried by the e-mail sweep. */
export function inlineJobEnv(ctx: AppContext, config: Config, mailer: Mailer | null): JobEnv {
  return {
    reconcileAfterSeconds: config.RECONCILE_AFTER_SECONDS,
    deliverEmail: mailer
      ? async (id) => {
          await emailNotification(ctx, mailer, id).catch((error: unknown) => ctx.log.warn({ notification: id, err: error }, 'e-mail failed; the sweep retries it'));
        }
      : null,
  };
}
