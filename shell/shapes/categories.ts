import { z } from 'zod';
import type { CategoryRow } from '../../db/database.js';
import { timestamp } from './common.js';

export const categorySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    created_at: timestamp,
  })
  .meta({ id: 'Category' });

export type Category = z.infer<typeof categorySchema>;

export function categoryView(c: CategoryRow): Category {
  return {
    id: c.id,
    name: c.name,
    slug: c.slug,
    description: c.description,
    created_at: c.created_at.toISOString(),
  };
}
