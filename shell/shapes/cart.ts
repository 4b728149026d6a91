import { z } from 'zod';
import { lineTotal } from '../../core/money.js';
import { currency, money } from './common.js';

export const cartItemSchema = z
  .object({
    id: z.uuid(),
    product_id: z.uuid(),
    name: z.string(),
    unit_price: money,
    quantity: z.number().int(),
    line_total: money,
  })
  .meta({ id: 'CartItem' });

/** The whole cart is computed by core's `cartView`, whose result has this shape. */
export const cartSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['active', 'frozen']).describe('frozen while the checkout is confirmed and unexpired'),
    items: z.array(cartItemSchema),
    item_count: z.number().int().describe('The number of units: the sum of quantities'),
    subtotal: money,
    currency,
  })
  .meta({ id: 'Cart' });

export type CartItem = z.infer<typeof cartItemSchema>;
export type Cart = z.infer<typeof cartSchema>;

/** One cart line as answered by the cart-item edits: the product's live name and price. */
export function cartItemView(item: { id: string; product_id: string; quantity: number }, product: { name: string; unit_price: number }): CartItem {
  return {
    id: item.id,
    product_id: item.product_id,
    name: product.name,
    unit_price: product.unit_price,
    quantity: item.quantity,
    line_total: lineTotal(product.unit_price, item.quantity),
  };
}
