import { z } from 'zod';
import { isCountryCode } from '../../core/country.js';
import type { CheckoutView } from '../../core/checkout.js';
import { currency, money, text, timestamp } from './common.js';

/** A shipping address as a client writes it (PATCH /checkout/update/). */
export const shippingAddressSchema = z.strictObject({
  line1: text().trim().min(1).max(200),
  line2: text().trim().max(200).optional(),
  city: text().trim().min(1).max(100),
  region: text().trim().max(100).optional(),
  postal_code: text().trim().min(1).max(20),
  country: text()
    .refine(isCountryCode, 'must be an officially assigned ISO 3166-1 alpha-2 code in uppercase, such as US')
    .describe('ISO 3166-1 alpha-2, uppercase, officially assigned (ZZ, XK, EU, UK are refused)'),
});

// An address is answered as stored: the country rule guards writes, and a reply must never fail on old data.
const storedShippingAddress = shippingAddressSchema.extend({ country: z.string().describe('ISO 3166-1 alpha-2') });

const checkoutItemSchema = z.object({ product_id: z.uuid(), name: z.string(), unit_price: money, quantity: z.number().int(), line_total: money });

export const checkoutSchema = z
  .object({
    id: z.uuid(),
    cart_id: z.uuid(),
    status: z.enum(['open', 'confirmed', 'completed', 'expired']),
    items: z.array(checkoutItemSchema).describe('The live cart while open or expired; the frozen lines while confirmed'),
    subtotal: money,
    total: money.describe('Equals subtotal (no shipping or tax yet)'),
    currency,
    shipping_address: storedShippingAddress.nullable(),
    contact_phone: z.string().nullable(),
    problems: z
      .array(z.object({ code: z.string(), product_id: z.uuid().nullable(), detail: z.string() }))
      .describe('Everything that would block confirmation (empty unless open or expired)'),
    confirmed_at: timestamp.nullable(),
    expires_at: timestamp.nullable(),
  })
  .meta({ id: 'Checkout' });

export type Checkout = z.infer<typeof checkoutSchema>;

/** Core's checkout view as a client gets it (timestamps as ISO strings); also what an idempotent replay stores. */
export function checkoutJsonView(view: CheckoutView): Checkout {
  return { ...view, confirmed_at: view.confirmed_at?.toISOString() ?? null, expires_at: view.expires_at?.toISOString() ?? null };
}
