import { z } from 'zod';
import type { ProductRow } from '../repos/products.js';
import { currency, money, timestamp } from './common.js';

export const productSchema = z
  .object({
    id: z.uuid(),
    vendor_id: z.uuid(),
    category_id: z.uuid(),
    name: z.string(),
    description: z.string(),
    unit_price: money,
    currency,
    stock: z.number().int(),
    is_active: z.boolean(),
    images: z.array(z.object({ id: z.uuid(), url: z.string() })),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Product' });

export type Product = z.infer<typeof productSchema>;

export function productView(row: ProductRow, images: Product['images'], currency: string): Product {
  return {
    id: row.id,
    vendor_id: row.vendor_id,
    category_id: row.category_id,
    name: row.name,
    description: row.description,
    unit_price: row.unit_price,
    currency,
    stock: row.stock,
    is_active: row.is_active,
    images,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
