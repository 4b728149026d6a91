import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PAYMENT_STATUSES } from '../../core/payment.js';
import { REFUND_REASON_MAX_LENGTH } from '../../core/refund.js';
import type { Actor } from '../../core/policy.js';
import type { App, RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { idempotencyOf, sendOutcome } from '../http/idempotency.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, errors, idempotencyHeaders, idParams, problem } from '../http/schemas.js';
import { PROVIDER_NAMES } from '../payments/provider.js';
import { confirmPayment, getPayment, initiatePayment, listPayments, receiveWebhook } from '../services/payments.js';
import { refundPayment } from '../services/refunds.js';
import { text, uuidInput } from '../shapes/common.js';
import { paymentSchema } from '../shapes/payments.js';

const initiateBody = z.strictObject({
  order_id: uuidInput().meta({ description: 'The order to pay: yours, pending_payment and not past payment_due_by' }),
  provider: z.enum(PROVIDER_NAMES as ['fake', 'paystack', 'stripe']).optional().meta({
    description: 'fake (only on a server whose PAYMENT_PROVIDER is fake; never in production), paystack or stripe; must be enabled on this server (else 400 validation_failed naming provider). Default: the server\'s PAYMENT_PROVIDER',
  }),
  method: text().trim().min(1).max(64).optional().meta({
    description:
      'Recorded with the payment. For the fake provider, "fake_decline" declines at confirm, "fake_pending" stays pending, and "fake_refund_pending" makes a later refund stay pending until the reconcile job',
  }),
}).meta({ examples: [{ order_id: '7c4b2a9e-3d1f-4b6a-9e8c-1f2d3a4b5c60' }] });

const confirmBody = z
  .strictObject({ reference: text().min(1).max(100).meta({ description: "The payment's reference, as POST /payments/initiate/ answered it" }) })
  .meta({ examples: [{ reference: 'nx_5f3a9c1e7b2d4f6a8c0e1b3d' }] });

const listQuery = z.object({
  ...pageQuery,
  status: z.enum(PAYMENT_STATUSES).optional().meta({ description: 'Only payments in this status' }),
  needs_refund: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: 'Admins only (403 for customers): payments flagged for refund' }),
});

const refundBody = z
  .strictObject({
    reason: text().trim().min(1).max(REFUND_REASON_MAX_LENGTH).meta({ description: 'Why the payment is refunded (1–500 characters), kept with the refund', example: 'Customer returned the items' }),
  })
  .meta({ examples: [{ reason: 'Customer returned the items' }] });

const webhookParams = z.object({ provider: text().min(1).max(32).meta({ description: 'paystack or stripe (others, fake included, are 404)' }) });
const webhookHeaders = z.object({
  'stripe-signature': z.string().optional().meta({ description: 'Stripe: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.raw body">[,v1=…]' }),
  'x-paystack-signature': z.string().optional().meta({ description: 'Paystack: hex HMAC-SHA512 of the raw body with the secret key' }),
});
const webhookReply = z.object({
  received: z.literal(true),
  outcome: z.string().meta({
    description:
      'paid, still_pending, failed, flagged_for_refund, cancelled, no_change, duplicate (already applied), ignored_event_type, unknown_reference, provider_mismatch; ' +
      'for refund events: refunded, refund_pending, refund_failed, no_change',
  }),
});

const actorOf = (request: FastifyRequest): Actor => caller(request);

export const paymentsRoutes: RoutePlugin = async (app, ctx) => {
  app.post('/payments/initiate/', {
    onRequest: app.requireRole('customer'),
    schema: {
      summary: 'Start paying an order (owner customer); returns the pending payment',
      description:
        "201 a new pending payment for exactly the order's total, or 200 the pending payment the order already has (whatever provider or method it was made with). " +
        "Another customer's order is 404; vendors and admins 403; an order not pending_payment or past payment_due_by is 409 order_not_payable. " +
        'If the provider cannot be reached to start the payment, the payment is cancelled and the answer is 503 busy with Retry-After: retry to get a fresh payment. ' +
        'Honours Idempotency-Key (a replay never calls the provider again).',
      operationId: 'initiatePayment',
      tags: ['payments'],
      security: bearer,
      headers: idempotencyHeaders,
      body: initiateBody,
      response: {
        200: paymentSchema.describe('The pending payment the order already has'),
        201: paymentSchema.describe('A new pending payment'),
        ...errors(400, 401, 403, 404, 415, 422, 429, 503),
        409: problem(['order_not_payable', 'idempotency_request_in_flight']),
      },
    },
    handler: async (request, reply) => sendOutcome(reply, await initiatePayment(ctx, idempotencyOf(request), actorOf(request), request.body)),
  });

  app.post('/payments/confirm/', {
    onRequest: app.requireRole('customer', 'admin'),
    schema: {
      summary: 'Ask the provider how a payment stands and apply it (owner customer or admin)',
      description:
        'succeeded → 200 with the payment succeeded and its order paid, in one transaction. Declined, or a report whose reference, amount or currency does not match → ' +
        '402 payment_failed, and the payment is failed (committed). Provider still processing, or not answering (timeout, 5xx, unreadable) → 200 with the payment still pending: ' +
        'pending is the signal to try again later. A succeeded payment → 200 unchanged; a failed or cancelled one → 409 payment_not_pending. ' +
        'A success for an order that can no longer be paid (expired, cancelled, past payment_due_by) → 409 order_not_payable: the payment is recorded as succeeded with ' +
        'needs_refund and the order is left as it is; an unsettled (pending) payment of such an order is cancelled, also 409 order_not_payable. Honours Idempotency-Key (a replay answers from the store without asking the provider).',
      operationId: 'confirmPayment',
      tags: ['payments'],
      security: bearer,
      headers: idempotencyHeaders,
      body: confirmBody,
      response: {
        200: paymentSchema.describe('The payment: succeeded (its order paid), or still pending (ask again later)'),
        ...errors(400, 401, 402, 403, 404, 415, 422, 429, 503),
        409: problem(['payment_not_pending', 'order_not_payable', 'idempotency_request_in_flight']),
      },
    },
    handler: async (request, reply) => sendOutcome(reply, await confirmPayment(ctx, idempotencyOf(request), actorOf(request), request.body.reference)),
  });

  app.get('/payments/', {
    onRequest: app.requireRole('customer', 'admin'),
    schema: {
      summary: 'List payments: customers their own, admins all; vendors 403',
      description: 'Newest first (created_at, id), cursor-paginated. Filters: status; needs_refund (admins only) lists payments flagged for refund.',
      operationId: 'listPayments',
      tags: ['payments'],
      security: bearer,
      querystring: listQuery,
      response: { 200: pageSchema(paymentSchema).describe('A page of payments'), ...errors(400, 401, 403) },
    },
    handler: async (request) => listPayments(ctx, listUrl(request, ctx.config.PUBLIC_URL), actorOf(request), request.query),
  });

  app.get('/payments/:id/', {
    onRequest: app.requireRole('customer', 'admin'),
    schema: {
      summary: 'A payment: your own, or any for admins; vendors 403',
      description: "Another customer's payment is 404, the same as an id nobody has.",
      operationId: 'getPayment',
      tags: ['payments'],
      security: bearer,
      params: idParams,
      response: { 200: paymentSchema.describe('The payment'), ...errors(400, 401, 403, 404) },
    },
    handler: async (request) => getPayment(ctx, actorOf(request), request.params.id),
  });

  app.post('/payments/:id/refund/', {
    onRequest: app.requireRole('admin'),
    schema: {
      summary: 'Refund a succeeded payment in full through its provider (admins)',
      description:
        'The provider is asked outside any transaction, under our refund id (Stripe Idempotency-Key); its answer is applied in one SERIALIZABLE transaction. ' +
        'Refund succeeded → 200 the payment, refunded, refunded_at set; when it is the payment that paid its order, the order is refunded, its stock returned ' +
        "and the customer and the order's vendors are told (order_refunded); a late payment flagged needs_refund just stops being flagged, its order left as it is. " +
        'Provider still processing, or not answering (timeout, 5xx, unreadable) → 202 the payment with refund.status "pending": the reconcile job or the provider\'s webhook finishes it. ' +
        'Provider refuses (or the refund fails at once) → 502 provider_error, nothing changed; retry later. ' +
        'Not succeeded, or its refund is pending or done → 409 payment_not_refundable (a failed refund may be asked again); one refund per payment is in flight at a time, ' +
        'whatever the number of concurrent requests. Customers and vendors 403; an unknown id 404. ' +
        'Honours Idempotency-Key: a replay never calls the provider again; a request while the first with the key is running is 409 idempotency_request_in_flight.',
      operationId: 'refundPayment',
      tags: ['payments'],
      security: bearer,
      headers: idempotencyHeaders,
      params: idParams,
      body: refundBody,
      response: {
        200: paymentSchema.describe('Refunded: the payment, refunded, with refunded_at set'),
        202: paymentSchema.describe('Accepted: the provider is still processing the refund (refund.status pending)'),
        ...errors(400, 401, 403, 404, 415, 422, 429, 502, 503),
        409: problem(['payment_not_refundable', 'idempotency_request_in_flight']),
      },
    },
    handler: async (request, reply) => sendOutcome(reply, await refundPayment(ctx, idempotencyOf(request), actorOf(request), request.params.id, request.body.reason)),
  });

  // The webhook needs the raw bytes the provider signed, so this route alone (in its own encapsulated
  // scope) reads JSON bodies as a Buffer.
  await app.register(async (scope: App) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post('/payments/webhooks/:provider/', {
      schema: {
        summary: 'Provider callbacks (paystack, stripe), authenticated by the provider signature',
        description:
          'Stripe: Stripe-Signature (t=…, v1=HMAC-SHA256 of "t.body" with STRIPE_WEBHOOK_SECRET; at most 5 minutes from our clock). Paystack: x-paystack-signature ' +
          '(HMAC-SHA512 of the body with the secret key). A missing or bad signature is 401 unauthenticated and changes nothing. Each event is recorded with its effect in one ' +
          'transaction, so a redelivery answers 200 and changes nothing; events for unknown references are recorded and ignored (200). A provider without webhooks ' +
          '(fake) or not enabled is 404.',
        operationId: 'receivePaymentWebhook',
        tags: ['payments'],
        security: [],
        params: webhookParams,
        headers: webhookHeaders,
        response: {
          200: webhookReply.describe('Received: the event is recorded with its effect (also for a redelivery or an unknown reference)'),
          ...errors(401, 404, 413, 415, 503),
          400: problem(['validation_failed', 'malformed_json']),
        },
      },
      handler: async (request) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return receiveWebhook(ctx, request.params.provider, raw, request.headers);
      },
    });
  });
};
