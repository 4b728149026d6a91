import { randomUUID } from 'node:crypto';
import { decideCloseCart } from '../../core/cart.js';
import { complete, insufficientStock, reopen, type CheckoutState } from '../../core/checkout.js';
import type { DomainError, StockShortfall } from '../../core/errors.js';
import { decideCancelOrder, decideExpireOrder, decideOrderCreation, refusalReopensCheckout, vendorShare, type OrderStatus } from '../../core/order.js';
import { authorizeOrderRead, type Actor } from '../../core/policy.js';
import { mergeRequests } from '../../core/stock.js';
import type { DB, Trx } from '../../db/database.js';
import type { AppContext } from '../context.js';
import { findStoredOutcome, refusalOutcome, runIdempotent, type IdempotencyRef, type IdempotentOutcome, type Outcome } from '../idempotency.js';
import { DomainFailure, failure, unwrap } from '../../core/errors.js';
import { keysetPage, toPage, type Page } from '../pagination.js';
import { findActiveCartWithCheckout, frozenItemsWithStock } from '../repos/carts.js';
import { ensureCartWithCheckout, saveCheckout, saveCheckoutClosingCart } from '../repos/checkouts.js';
import { findOrder, insertOrder, linesOf, ordersQuery, overdueOrderIds, saveOrderStatus, vendorIdsOfUser, type OrderRecord } from '../repos/orders.js';
import { cancelPendingPayments } from '../repos/payments.js';
import { decrementStock, incrementStock, productFacts, releaseProductWaiters, stockOf, withProductLocks } from '../repos/stock.js';
import { orderView, type Order } from '../shapes/orders.js';
import { insertOutbox } from '../repos/outbox.js';
import { inSerializableTx } from '../tx.js';

/** Order use cases: create from the confirmed checkout, read by role, cancel, and expiry for the job. */

/**
 * The products of the caller's confirmed checkout, read before any transaction, to lock them; none when
 * one of them is already short of stock: the transaction will refuse (and reopen the checkout) without
 * taking stock, so it need not queue behind the buyers of a sold-out product. Only a shortcut: the
 * transaction reads the stock again and decides.
 */
async function productsToLock(db: DB, customerId: string): Promise<string[]> {
  const items = await frozenItemsWithStock(db, customerId);
  if (items.some((i) => i.quantity > i.stock)) return [];
  return items.map((i) => i.product_id);
}

/** A refusal that must be committed (the checkout goes back to open), answered as an outcome rather than thrown. */
async function committedRefusal(trx: Trx, checkout: CheckoutState, error: DomainError, now: Date): Promise<Outcome> {
  await saveCheckout(trx, unwrap(reopen(checkout, now)), now);
  return refusalOutcome(error);
}

/** `soldOut` collects the products this transaction saw with no stock left (for the lock queue). */
async function createOrderIn(trx: Trx, ctx: AppContext, customerId: string, ids: { orderId: string; lineId: (i: number) => string }, now: Date, soldOut: Set<string>): Promise<Outcome> {
  soldOut.clear();
  const found = await findActiveCartWithCheckout(trx, customerId);
  const cart = found?.cart;
  const checkout = found?.checkout;
  if (!cart || !checkout) throw failure({ type: 'checkout_not_confirmed', detail: 'Confirm the checkout before creating an order' });
  const frozen = checkout.frozen_items ?? [];
  const products = await productFacts(trx, frozen.map((f) => f.product_id));
  for (const p of products.values()) if (p.stock === 0) soldOut.add(p.id);
  const decision = decideOrderCreation({
    checkout,
    customerId,
    products,
    now,
    orderId: ids.orderId,
    lineIds: frozen.map((_, i) => ids.lineId(i)),
    currency: ctx.config.CURRENCY,
    paymentDueSeconds: ctx.config.PAYMENT_DUE_SECONDS,
  });
  if (!decision.ok) {
    if (refusalReopensCheckout(decision.error)) return committedRefusal(trx, checkout, decision.error, now);
    throw new DomainFailure(decision.error);
  }
  const order = decision.value;
  const completed = unwrap(complete(checkout, now));
  unwrap(decideCloseCart(cart, completed));

  // The first write: the conditional decrement has the last word on stock, whatever was read above.
  const requests = mergeRequests(order.items);
  const taken: typeof requests = [];
  const short: StockShortfall[] = [];
  for (const r of requests) {
    const left = await decrementStock(trx, r.product_id, r.quantity, now);
    if (left === null) short.push({ product_id: r.product_id, requested: r.quantity, available: await stockOf(trx, r.product_id) });
    else taken.push(r);
    if (left === 0) soldOut.add(r.product_id);
  }
  if (short.length > 0) {
    for (const r of taken) await incrementStock(trx, r.product_id, r.quantity, now);
    return committedRefusal(trx, checkout, insufficientStock(short, (id) => order.items.find((i) => i.product_id === id)?.name ?? id), now);
  }

  const number = await insertOrder(trx, order);
  await saveCheckoutClosingCart(trx, completed, cart.id, now);
  return { status: 201, body: orderView({ ...order, number }) };
}

/**
 * POST /orders/create/ (Idempotency-Key honoured). Contenders for the same products queue on advisory
 * locks before their transactions start, so a hot product gives correct answers instead of retry storms.
 */
export async function createOrder(ctx: AppContext, idempotency: IdempotencyRef | null, customerId: string): Promise<IdempotentOutcome> {
  const now = ctx.now();
  const orderId = randomUUID();
  const lineIds: string[] = [];
  const lineId = (i: number) => (lineIds[i] ??= randomUUID());
  // A replay answers at once instead of queueing behind the product locks.
  const stored = await findStoredOutcome(ctx.db, idempotency, customerId, now);
  if (stored) return stored;
  const locks = await productsToLock(ctx.db, customerId);
  const soldOut = new Set<string>();
  const outcome = await withProductLocks(ctx.db, locks, async (conn) => {
    const answer = await runIdempotent(conn, idempotency, customerId, now, (trx) => createOrderIn(trx, ctx, customerId, { orderId, lineId }, now, soldOut));
    // Those queued for a product this order found (or left) at zero would only be refused in turn.
    releaseProductWaiters([...soldOut]);
    return answer;
  });
  if (outcome.status === 201 && !outcome.replayed) {
    await ctx.cache.bump('products');
    // The customer's next cart and its checkout, made now in one statement outside any transaction, so
    // the next add to cart finds them instead of leaving its transaction to make them (cart.ts untilMade).
    // Only a head start: a failure here changes nothing the order answered.
    await ensureCartWithCheckout(ctx.db, customerId, { cartId: randomUUID(), checkoutId: randomUUID() }, now).catch((error: unknown) =>
      ctx.log.warn({ err: error }, 'could not make the next cart after an order; the next cart request will'),
    );
  }
  return outcome;
}

/** What this actor may see of an order: customers their own, vendors their lines and sum, admins all; else 404. */
async function visibleOrder(db: DB | Trx, actor: Actor, order: OrderRecord | undefined): Promise<OrderRecord> {
  if (!order) throw failure({ type: 'not_found', detail: 'No such order' });
  const vendorIds = actor.role === 'vendor' ? await vendorIdsOfUser(db, actor.id) : [];
  const access = unwrap(authorizeOrderRead(actor, { customer_id: order.customer_id, lineVendorIds: order.items.map((i) => i.vendor_id) }, vendorIds));
  return access === 'whole' ? order : { ...vendorShare(order, vendorIds), number: order.number };
}

export async function getOrder(ctx: AppContext, actor: Actor, orderId: string): Promise<Order> {
  return orderView(await visibleOrder(ctx.db, actor, await findOrder(ctx.db, orderId)));
}

export async function listOrders(
  ctx: AppContext,
  listUrl: string,
  actor: Actor,
  query: { status?: OrderStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<Order>> {
  const vendorIds = actor.role === 'vendor' ? await vendorIdsOfUser(ctx.db, actor.id) : undefined;
  const q = ordersQuery(ctx.db, {
    ...(actor.role === 'customer' ? { customerId: actor.id } : {}),
    ...(vendorIds ? { vendorIds } : {}),
    ...(query.status ? { status: query.status } : {}),
  });
  const page = await keysetPage(ctx.paginator, q, {
    columns: ['o.created_at', 'o.id'],
    direction: 'desc',
    keyOf: (row) => [row.created_at.toISOString(), row.id],
    ordering: `orders:${query.status ?? '*'}`,
    limit: query.limit,
    cursor: query.cursor,
  });
  const lines = await linesOf(ctx.db, page.rows.map((r) => r.id));
  return toPage(listUrl, page, (row) => {
    const order: OrderRecord = { ...row, items: lines.get(row.id) ?? [] };
    return orderView(vendorIds ? { ...vendorShare(order, vendorIds), number: row.number } : order);
  });
}

/** The products of an order's lines, read before the transaction so their locks can be taken first. */
async function productsOfOrder(db: DB, orderId: string): Promise<string[]> {
  return [...((await linesOf(db, [orderId])).get(orderId) ?? [])].map((l) => l.product_id);
}

/** POST /orders/{id}/cancel/: owner customer or admin, only while pending_payment; stock returned and pending payments cancelled in the same transaction. */
export async function cancelOrder(ctx: AppContext, actor: Actor, orderId: string): Promise<Order> {
  const now = ctx.now();
  const result = await withProductLocks(ctx.db, await productsOfOrder(ctx.db, orderId), (conn) =>
    inSerializableTx(conn, async (trx) => {
      const order = await visibleOrder(trx, actor, await findOrder(trx, orderId));
      const cancelled = unwrap(decideCancelOrder(order, now));
      await saveOrderStatus(trx, cancelled, now);
      // In the same transaction, so a confirm can no longer charge the customer for a cancelled order.
      await cancelPendingPayments(trx, order.id, 'order_cancelled', now);
      for (const item of order.items) await incrementStock(trx, item.product_id, item.quantity, now);
      return { ...cancelled, number: order.number };
    }),
  );
  await ctx.cache.bump('products');
  return orderView(result);
}

/**
 * The expiry job: every pending_payment order past payment_due_by becomes expired, its pending payments
 * are cancelled, its stock comes back and an outbox row tells the customer, one SERIALIZABLE transaction
 * per order decided by core (an order paid or cancelled meanwhile, or not yet due, is left alone), so two
 * workers, or a worker killed and run again, expire each order once. Bounded by `limit`; returns the ids
 * expired.
 */
export async function expireOverdueOrders(ctx: AppContext, options: { now?: Date; limit?: number } = {}): Promise<string[]> {
  const now = options.now ?? ctx.now();
  const expired: string[] = [];
  for (const orderId of await overdueOrderIds(ctx.db, now, options.limit ?? 500)) {
    const outboxId = randomUUID();
    const done = await withProductLocks(ctx.db, await productsOfOrder(ctx.db, orderId), (conn) =>
      inSerializableTx(conn, async (trx) => {
        const order = await findOrder(trx, orderId);
        if (!order) return false;
        const decision = decideExpireOrder(order, now);
        if (!decision.ok) return false;
        await saveOrderStatus(trx, decision.value, now);
        await cancelPendingPayments(trx, order.id, 'order_expired', now);
        for (const item of order.items) await incrementStock(trx, item.product_id, item.quantity, now);
        await insertOutbox(trx, { id: outboxId, kind: 'order_expired', subject_id: order.id, created_at: now });
        return true;
      }),
    );
    if (done) expired.push(orderId);
  }
  if (expired.length > 0) {
    await ctx.cache.bump('products');
    ctx.wake('relay');
  }
  return expired;
}
