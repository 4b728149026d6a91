import { createTransport } from 'nodemailer';

/**
 * Sending e-mail. The jobs see only `Mailer`; where the app is built, SMTP_URL decides whether there is
 * one (createSmtpMailer) or none.
 */

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Resolves once the server accepted the message; rejects if it refused it or did not answer in time. */
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpOptions {
  /** Bound on connecting, on the greeting and on each idle stretch of the exchange (ms). */
  timeoutMs?: number;
}

/**
 * A mailer over one SMTP connection per message (few messages, so no pool). `smtpUrl` is
 * smtp://user:pass@host:port (STARTTLS when the server offers it) or smtps:// (TLS from the start).
 */
export function createSmtpMailer(smtpUrl: string, from: string, options: SmtpOptions = {}): Mailer {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = createTransport(
    { url: smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs },
    { from },
  );
  return {
    async send(message) {
      await transport.sendMail({ to: message.to, subject: message.subject, text: message.text });
    },
    async close() {
      transport.close();
    },
  };
}
