import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, type Mailer } from '../../shell/mail/mailer.js';
import { startSmtpStandIn, type SmtpStandIn } from '../support/smtp-stand-in.js';

describe('SMTP mailer', () => {
  let smtp: SmtpStandIn;
  let mailer: Mailer;

  beforeAll(async () => {
    smtp = await startSmtpStandIn();
    mailer = createSmtpMailer(smtp.url, 'Nexus <no-reply@nexus.test>', { timeoutMs: 500 });
  });
  afterAll(async () => {
    await mailer.close();
    await smtp.close();
  });
  afterEach(() => {
    smtp.behave('accept');
    smtp.received.length = 0;
  });

  it('delivers a message once, with its recipient, sender, subject and text', async () => {
    const text = 'Order #1042 was paid. It holds your products and is ready to be fulfilled.\nTotal: 12,50 €';
    await mailer.send({ to: 'vendor@example.test', subject: 'An order for your products was paid', text });

    const [mail] = await smtp.waitFor(1);
    expect(smtp.received).toHaveLength(1);
    expect(mail!.to).toEqual(['vendor@example.test']);
    expect(mail!.from).toBe('no-reply@nexus.test');
    expect(mail!.headers.get('to')).toBe('vendor@example.test');
    expect(mail!.headers.get('from')).toBe('Nexus <no-reply@nexus.test>');
    expect(mail!.subject).toBe('An order for your products was paid');
    expect(mail!.text).toBe(text);
  });

  it('sends each message over its own exchange: two sends, two messages', async () => {
    await mailer.send({ to: 'a@example.test', subject: 'one', text: 'first' });
    await mailer.send({ to: 'b@example.test', subject: 'two', text: 'second' });
    const mails = await smtp.waitFor(2);
    expect(mails.map((m) => [m.to, m.subject, m.text])).toEqual([
      [['a@example.test'], 'one', 'first'],
      [['b@example.test'], 'two', 'second'],
    ]);
  });

  it('rejects when the server refuses the message, and nothing is delivered', async () => {
    smtp.behave('reject');
    await expect(mailer.send({ to: 'customer@example.test', subject: 'Your order was refunded', text: 'Order #1043 was refunded in full.' })).rejects.toThrow(
      /550|Mailbox unavailable/,
    );
    expect(smtp.received).toHaveLength(0);
  });

  it('rejects within its timeout when the server never answers the message', async () => {
    smtp.behave('hang');
    const started = performance.now();
    await expect(mailer.send({ to: 'customer@example.test', subject: 'Your order expired unpaid', text: 'Order #1044 expired.' })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(5000);
    expect(smtp.received).toHaveLength(0);
  });

  it('rejects when nothing listens at the SMTP address', async () => {
    // A port that was free a moment ago: bind, note it, release.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const nowhere = createSmtpMailer(`smtp://127.0.0.1:${port}`, 'no-reply@nexus.test', { timeoutMs: 500 });
    try {
      await expect(nowhere.send({ to: 'x@example.test', subject: 's', text: 't' })).rejects.toThrow();
    } finally {
      await nowhere.close();
    }
  });
});
