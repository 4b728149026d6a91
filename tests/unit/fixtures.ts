import type { CheckoutState } from '../../core/checkout.js';

/** A checkout as the shell first stores it: open, nothing frozen, no address yet. */
export const openCheckout = (id = 'co', cartId = 'cart'): CheckoutState => ({
  id,
  cart_id: cartId,
  status: 'open',
  shipping_address: null,
  contact_phone: null,
  frozen_items: null,
  subtotal: null,
  total: null,
  confirmed_at: null,
  expires_at: null,
});
