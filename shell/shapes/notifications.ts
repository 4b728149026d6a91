import { z } from 'zod';
import { NOTIFICATION_KINDS, type NotificationState } from '../../core/notification.js';
import { timestamp } from './common.js';

export const notificationSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(NOTIFICATION_KINDS).meta({
      description: "order_paid (to each vendor of a paid order), order_expired (to the order's customer), order_refunded (to the order's customer and each of its vendors)",
    }),
    subject_id: z.uuid().meta({ description: 'The order the notification is about' }),
    message: z.string(),
    created_at: timestamp,
    read_at: timestamp.nullable().meta({ description: 'When it was first marked read; null while unread' }),
  })
  .meta({ id: 'Notification' });

export type Notification = z.infer<typeof notificationSchema>;

/** The notification shape of API.md: never its user, outbox or e-mail bookkeeping. */
export function notificationView(n: NotificationState): Notification {
  return {
    id: n.id,
    kind: n.kind,
    subject_id: n.subject_id,
    message: n.message,
    created_at: n.created_at.toISOString(),
    read_at: n.read_at?.toISOString() ?? null,
  };
}
