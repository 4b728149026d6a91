import { randomUUID } from 'node:crypto';
import { checkoutView, decideCancel, decideConfirm, decideUpdate, type CheckoutPatch } from '../../core/checkout.js';
import type { DB, Trx } from '../../db/database.js';
import type { AppContext } from '../context.js';
import { runIdempotent, type IdempotencyRef, type IdempotentOutcome } from '../idempotency.js';
import { unwrap } from '../../core/errors.js';
import { ensureCartWithCheckout, findOrCreateCheckout, saveCheckout } from '../repos/checkouts.js';
import { checkoutJsonView, type Checkout } from '../shapes/checkout.js';
import { inSerializableTx } from '../tx.js';
import { loadCart } from './cart.js';

/** Checkout use cases: the checkout of the active cart, created on first access by any of them. */

interface NewIds {
  cartId: string;
  checkoutId: string;
}

/** Fresh ids for a cart and checkout created on first access, with both made sure to exist before the transaction. */
async function prepare(db: DB, customerId: string, now: Date): Promise<NewIds> {
  const ids = { cartId: randomUUID(), checkoutId: randomUUID() };
  await ensureCartWithCheckout(db, customerId, ids, now);
  return ids;
}

async function loadCheckout(trx: Trx, customerId: string, ids: NewIds, now: Date) {
  const loaded = await loadCart(trx, customerId, ids.cartId, now);
  const checkout = loaded.checkout ?? (await findOrCreateCheckout(trx, loaded.cart.id, customerId, ids.checkoutId, now));
  return { ...loaded, checkout };
}

export async function getCheckout(ctx: AppContext, customerId: string): Promise<Checkout> {
  const now = ctx.now();
  const ids = await prepare(ctx.db, customerId, now);
  return inSerializableTx(ctx.db, async (trx) => {
    const { checkout, lines } = await loadCheckout(trx, customerId, ids, now);
    return checkoutJsonView(checkoutView(checkout, lines, ctx.config.CURRENCY, now));
  });
}

export async function updateCheckout(ctx: AppContext, customerId: string, patch: CheckoutPatch): Promise<Checkout> {
  const now = ctx.now();
  const ids = await prepare(ctx.db, customerId, now);
  return inSerializableTx(ctx.db, async (trx) => {
    const { checkout, lines } = await loadCheckout(trx, customerId, ids, now);
    const updated = unwrap(decideUpdate(checkout, patch, now));
    await saveCheckout(trx, updated, now);
    return checkoutJsonView(checkoutView(updated, lines, ctx.config.CURRENCY, now));
  });
}

/** POST /checkout/confirm/ (Idempotency-Key honoured): refusals are thrown, so runIdempotent stores them apart. */
export async function confirmCheckout(ctx: AppContext, idempotency: IdempotencyRef | null, customerId: string): Promise<IdempotentOutcome> {
  const now = ctx.now();
  const ids = await prepare(ctx.db, customerId, now);
  return runIdempotent(ctx.db, idempotency, customerId, now, async (trx) => {
    const { checkout, lines } = await loadCheckout(trx, customerId, ids, now);
    const decision = unwrap(decideConfirm(checkout, lines, now, ctx.config.CHECKOUT_TTL_SECONDS));
    if (decision.changed) await saveCheckout(trx, decision.checkout, now);
    return { status: 200, body: checkoutJsonView(checkoutView(decision.checkout, lines, ctx.config.CURRENCY, now)) };
  });
}

export async function cancelCheckout(ctx: AppContext, customerId: string): Promise<Checkout> {
  const now = ctx.now();
  const ids = await prepare(ctx.db, customerId, now);
  return inSerializableTx(ctx.db, async (trx) => {
    const { checkout, lines } = await loadCheckout(trx, customerId, ids, now);
    const reopened = unwrap(decideCancel(checkout, now));
    if (reopened !== checkout) await saveCheckout(trx, reopened, now);
    return checkoutJsonView(checkoutView(reopened, lines, ctx.config.CURRENCY, now));
  });
}
