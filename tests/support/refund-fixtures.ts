import type { DB } from '../../db/database.js';
import { confirmedCheckout, createProduct, type Catalog, type ProductFixture } from './commerce-fixtures.js';
import type { TestContext, TestUser } from './harness.js';
import type { PaystackStandIn } from './paystack-stand-in.js';
import type { StripeStandIn } from './stripe-stand-in.js';

/**
 * A paid order with real lines and stock, made through the API (cart, checkout, order, payment) and paid
 * through the chosen provider, for the refund tests: the state a refund starts from.
 */

export interface PaidOrder {
  orderId: string;
  payment: { id: string; reference: string };
  products: ProductFixture[];
  /** Quantity bought of each product, by product id. */
  quantities: Map<string, number>;
}

export interface PayOptions {
  provider?: 'fake' | 'stripe' | 'paystack';
  method?: string;
  stripe?: StripeStandIn;
  paystack?: PaystackStandIn;
  /** Units bought of each new product (stock 10 each). */
  quantities?: number[];
}

async function call(t: TestContext, method: 'POST' | 'GET', url: string, as: TestUser, payload?: object) {
  const res = await t.request({ method, url: `/api/v1${url}`, as, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

/** An order made from a confirmed checkout, still pending payment, and its payment initiated. */
export async function orderWithPayment(t: TestContext, customer: TestUser, catalog: Catalog, options: PayOptions = {}) {
  const products = await Promise.all((options.quantities ?? [2, 1]).map(() => createProduct(t.db, catalog, { stock: 10, unit_price: 1500 })));
  const quantities = new Map(products.map((p, i) => [p.id, (options.quantities ?? [2, 1])[i]!]));
  await confirmedCheckout(t, customer, products.map((p) => ({ product_id: p.id, quantity: quantities.get(p.id)! })));
  const created = await call(t, 'POST', '/orders/create/', customer);
  if (created.status !== 201) throw new Error(`order create: ${created.status} ${JSON.stringify(created.body)}`);
  const orderId = created.body.id as string;
  const initiated = await call(t, 'POST', '/payments/initiate/', customer, { order_id: orderId, provider: options.provider ?? 'fake', ...(options.method ? { method: options.method } : {}) });
  if (initiated.status !== 201) throw new Error(`initiate: ${initiated.status} ${JSON.stringify(initiated.body)}`);
  const payment = { id: initiated.body.id as string, reference: initiated.body.reference as string };
  return { orderId, payment, products, quantities };
}

/** Settles the payment at its provider's stand-in (fake needs nothing) and confirms it; returns the confirm answer. */
export async function settleAndConfirm(t: TestContext, customer: TestUser, reference: string, options: PayOptions = {}) {
  if (options.provider === 'stripe') options.stripe!.settle(reference, 'succeeded');
  if (options.provider === 'paystack') options.paystack!.settle(reference, 'success');
  return call(t, 'POST', '/payments/confirm/', customer, { reference });
}

export async function paidOrder(t: TestContext, customer: TestUser, catalog: Catalog, options: PayOptions = {}): Promise<PaidOrder> {
  const made = await orderWithPayment(t, customer, catalog, options);
  const confirmed = await settleAndConfirm(t, customer, made.payment.reference, options);
  if (confirmed.status !== 200 || confirmed.body.status !== 'succeeded') throw new Error(`confirm: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return made;
}

export async function stocks(db: DB, products: readonly ProductFixture[]): Promise<number[]> {
  const rows = await db.selectFrom('products').select(['id', 'stock']).where('id', 'in', products.map((p) => p.id)).execute();
  return products.map((p) => rows.find((r) => r.id === p.id)!.stock);
}

export async function refundRows(db: DB, paymentId: string) {
  return db.selectFrom('refunds').selectAll().where('payment_id', '=', paymentId).orderBy('requested_at').execute();
}

export async function outboxOf(db: DB, orderId: string) {
  return db.selectFrom('outbox').select(['kind']).where('subject_id', '=', orderId).orderBy('created_at').execute();
}

export async function orderRow(db: DB, orderId: string) {
  return db.selectFrom('orders').select(['status', 'paid_at', 'refunded_at', 'expired_at', 'cancelled_at']).where('id', '=', orderId).executeTakeFirstOrThrow();
}

export async function paymentRow(db: DB, paymentId: string) {
  return db.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirstOrThrow();
}
