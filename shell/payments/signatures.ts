import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signature checks, over the raw request body and with constant-time comparison.
 * The signers are what the providers do; tests use them to sign deliveries.
 */

/** Stripe accepts events up to five minutes old (against our clock), which bounds replays. */
export const STRIPE_TOLERANCE_SECONDS = 300;

function equalHex(expectedHex: string, givenHex: string): boolean {
  if (!/^[0-9a-f]+$/i.test(givenHex)) return false;
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function stripeSignatureOf(payload: Buffer | string, secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
}

/** A `Stripe-Signature` header value for a payload, as Stripe sends it. */
export function signStripe(payload: Buffer | string, secret: string, timestamp: number): string {
  return `t=${timestamp},v1=${stripeSignatureOf(payload, secret, timestamp)}`;
}

/**
 * `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`: valid when some v1 is the
 * HMAC-SHA256 of `${t}.${payload}` and t is within the tolerance of now (either side).
 */
export function verifyStripeSignature(header: string | undefined, payload: Buffer, secret: string, now: Date, toleranceSeconds = STRIPE_TOLERANCE_SECONDS): boolean {
  if (!header || !secret) return false;
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1') candidates.push(value);
  }
  if (timestamp === null || candidates.length === 0) return false;
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = stripeSignatureOf(payload, secret, timestamp);
  // Check every candidate (no early exit) so timing says nothing about which one matched.
  let valid = false;
  for (const candidate of candidates) valid = equalHex(expected, candidate) || valid;
  return valid;
}

/** `x-paystack-signature`: hex HMAC-SHA512 of the raw body with the secret key. */
export function signPaystack(payload: Buffer | string, secretKey: string): string {
  return createHmac('sha512', secretKey).update(payload).digest('hex');
}

export function verifyPaystackSignature(header: string | undefined, payload: Buffer, secretKey: string): boolean {
  if (!header || !secretKey) return false;
  return equalHex(signPaystack(payload, secretKey), header.trim());
}

/** A single header value, or undefined when absent or sent more than once. */
export function singleHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
