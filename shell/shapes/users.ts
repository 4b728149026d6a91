import { z } from 'zod';
import { ROLES } from '../../core/policy.js';
import type { StoredUser } from '../repos/users.js';
import { timestamp } from './common.js';

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    full_name: z.string(),
    role: z.enum(ROLES),
    is_active: z.boolean(),
    created_at: timestamp,
  })
  .meta({ id: 'User', description: 'A user account; never carries the password hash' });

export type User = z.infer<typeof userSchema>;

/** The public shape of a user: never the password hash or the token version. */
export function userView(user: StoredUser): User {
  return {
    id: user.id,
    email: user.email,
    full_name: user.full_name,
    role: user.role,
    is_active: user.is_active,
    created_at: user.created_at.toISOString(),
  };
}
