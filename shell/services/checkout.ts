import { checkoutView, decideCancel, decideConfirm, decideUpdate, type CheckoutPatch } from '../../core/checkout.js';
import type { Trx } from '../../db/database.js';
import type { AppContext } from '../context.js';
import { runIdempotent, type IdempotencyRef, type IdempotentOutcome } from '../idempotency.js';
import { unwrap } from '../../core/errors.js';
import { saveCheckout } from '../repos/checkouts.js';
import { checkoutJsonView, type Checkout } from '../shapes/checkout.js';
import { inSerializableTx } from '../tx.js';
import { loadCart, missing, untilMade } from './cart.js';

/**
 * Checkout use cases: the checkout of the active cart, created on first access by any of them (outside
 * the flow's transaction, see untilMade).
 */

/** The active cart's checkout and lines, in one query. */
async function loadCheckout(trx: Trx, customerId: string) {
  const loaded = (await loadCart(trx, customerId)) ?? missing();
  return { checkout: loaded.checkout ?? missing(), lines: loaded.lines };
}

export async function getCheckout(ctx: AppContext, customerId: string): Promise<Checkout> {
  const now = ctx.now();
  return untilMade(ctx, customerId, now, () =>
    inSerializableTx(ctx.db, async (trx) => {
      const { checkout, lines } = await loadCheckout(trx, customerId);
      return checkoutJsonView(checkoutView(checkout, lines, ctx.config.CURRENCY, now));
    }),
  );
}

export async function updateCheckout(ctx: AppContext, customerId: string, patch: CheckoutPatch): Promise<Checkout> {
  const now = ctx.now();
  return untilMade(ctx, customerId, now, () =>
    inSerializableTx(ctx.db, async (trx) => {
      const { checkout, lines } = await loadCheckout(trx, customerId);
      const updated = unwrap(decideUpdate(checkout, patch, now));
      await saveCheckout(trx, updated, now);
      return checkoutJsonView(checkoutView(updated, lines, ctx.config.CURRENCY, now));
    }),
  );
}

/** POST /checkout/confirm/ (Idempotency-Key honoured): refusals are thrown, so runIdempotent stores them apart. */
export async function confirmCheckout(ctx: AppContext, idempotency: IdempotencyRef | null, customerId: string): Promise<IdempotentOutcome> {
  const now = ctx.now();
  return untilMade(ctx, customerId, now, () =>
    runIdempotent(ctx.db, idempotency, customerId, now, async (trx) => {
      const { checkout, lines } = await loadCheckout(trx, customerId);
      const decision = unwrap(decideConfirm(checkout, lines, now, ctx.config.CHECKOUT_TTL_SECONDS));
      if (decision.changed) await saveCheckout(trx, decision.checkout, now);
      return { status: 200, body: checkoutJsonView(checkoutView(decision.checkout, lines, ctx.config.CURRENCY, now)) };
    }),
  );
}

export async function cancelCheckout(ctx: AppContext, customerId: string): Promise<Checkout> {
  const now = ctx.now();
  return untilMade(ctx, customerId, now, () =>
    inSerializableTx(ctx.db, async (trx) => {
      const { checkout, lines } = await loadCheckout(trx, customerId);
      const reopened = unwrap(decideCancel(checkout, now));
      if (reopened !== checkout) await saveCheckout(trx, reopened, now);
      return checkoutJsonView(checkoutView(reopened, lines, ctx.config.CURRENCY, now));
    }),
  );
}
