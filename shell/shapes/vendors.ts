import { z } from 'zod';
import type { VendorRow } from '../../db/database.js';
import { timestamp } from './common.js';

export const vendorSchema = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    business_name: z.string(),
    description: z.string(),
    support_email: z.string().nullable(),
    is_active: z.boolean(),
    created_at: timestamp,
  })
  .meta({ id: 'Vendor' });

export type Vendor = z.infer<typeof vendorSchema>;

export function vendorView(v: VendorRow): Vendor {
  return {
    id: v.id,
    user_id: v.user_id,
    business_name: v.business_name,
    description: v.description,
    support_email: v.support_email,
    is_active: v.is_active,
    created_at: v.created_at.toISOString(),
  };
}
