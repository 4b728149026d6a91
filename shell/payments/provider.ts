import type { ProviderReport } from '../../core/payment.js';
import type { RefundReport } from '../../core/refund.js';

/**
 * The payment providers, behind one interface. Each adapter speaks its provider's HTTP API with plain
 * fetch and a timeout, and never throws for a provider problem: an unreachable, slow, 5xx or unreadable
 * provider is reported as "pending" (unknown), never as a failure, because the money may have moved.
 */

export type ProviderName = 'fake' | 'paystack' | 'stripe';
export const PROVIDER_NAMES: readonly ProviderName[] = ['fake', 'paystack', 'stripe'];

export type NextAction = { type: 'redirect'; url: string } | null;

export interface InitializeInput {
  reference: string;
  order_id: string;
  amount: number;
  currency: string;
  email: string;
  method: string | null;
}

export type InitializeResult =
  // providerPaymentId also marks the payment as started at the provider.
  | { ok: true; providerPaymentId: string; nextAction: NextAction }
  | { ok: false; reason: string };

export interface PaymentLookup {
  reference: string;
  provider_payment_id: string | null;
  amount: number;
  currency: string;
  method: string | null;
}

/** A full refund of a succeeded payment, as the adapters ask for it. */
export interface RefundRequest {
  /** Our refund id: Stripe's Idempotency-Key, so asking again under it never refunds twice. */
  refundId: string;
  reference: string;
  provider_payment_id: string | null;
  amount: number;
  currency: string;
  method: string | null;
  reason: string;
}

export interface RefundLookup extends RefundRequest {
  /** The provider's id for the refund, once an answer has given it. */
  provider_refund_id: string | null;
}

export type RefundResult =
  /** The provider took the request: done, still processing, or (timeout, 5xx, unreadable) unknown, which is pending. */
  | { refused: false; report: RefundReport }
  /** The provider refused it outright (4xx, or a refund that failed on the spot): nothing was refunded. */
  | { refused: true; reason: string };

/** A webhook event, once its signature is verified and its body read. */
export interface WebhookEvent {
  eventId: string;
  eventType: string;
  /** The payment reference the event is about, or null if it is about none of ours. */
  reference: string | null;
  /** What the event says about that payment; null for event types that settle nothing. */
  report: ProviderReport | null;
  /**
   * What the event says about a refund of that payment (null for other events), with the provider's id
   * of the payment, for events that carry no reference of ours.
   */
  refund?: { report: RefundReport; providerPaymentId: string | null } | null;
}

export interface WebhookRequest {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
  now: Date;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  /** Starts the payment at the provider. `ok: false` means it could not be started (nothing to pay). */
  initialize(input: InitializeInput): Promise<InitializeResult>;
  /** Asks the provider how the payment stands. */
  verify(payment: PaymentLookup): Promise<ProviderReport>;
  /** Asks the provider to give the whole payment back. Never throws for a provider problem. */
  refund(request: RefundRequest): Promise<RefundResult>;
  /**
   * The payment's refund as the provider has it now (the one asked under `refundId` when the provider can
   * tell), for the reconcile job; null when the provider has none (the request never reached it); an
   * unreachable provider is a pending report.
   */
  findRefund(lookup: RefundLookup): Promise<RefundReport | null>;
  /** Webhook support: signature check over the raw body, then the event. Absent for `fake`. */
  webhooks?: {
    verifySignature(request: WebhookRequest): boolean;
    /** null when the body is not an event this adapter can read. */
    parseEvent(body: unknown): WebhookEvent | null;
  };
}

export type PaymentProviders = Partial<Record<ProviderName, PaymentProvider>> & { default: ProviderName };


/** The result of one HTTP call to a provider: its JSON body, or why there is none to trust. */
export type ProviderCall =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'unavailable'; reason: 'timeout' | 'network_error' | 'server_error' | 'malformed_response'; status?: number };

/** One fetch with a timeout; 5xx, timeouts, network errors and non-JSON bodies become `unavailable`. */
export async function callProvider(url: string, init: RequestInit, timeoutMs: number): Promise<ProviderCall> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const name = (error as { name?: string } | null)?.name;
    return { kind: 'unavailable', reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network_error' };
  }
  let text: string;
  try {
    text = await response.text();
  } catch {
    return { kind: 'unavailable', reason: 'timeout', status: response.status };
  }
  if (response.status >= 500) return { kind: 'unavailable', reason: 'server_error', status: response.status };
  try {
    return { kind: 'json', status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { kind: 'unavailable', reason: 'malformed_response', status: response.status };
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
