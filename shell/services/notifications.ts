import { decideMarkRead } from '../../core/notification.js';
import { unwrap } from '../../core/errors.js';
import type { Actor } from '../../core/policy.js';
import type { AppContext } from '../context.js';
import { keysetPage, toPage, type Page } from '../pagination.js';
import { findNotification, markRead, notificationsQuery } from '../repos/notifications.js';
import { notificationView, type Notification } from '../shapes/notifications.js';
import { inSerializableTx } from '../tx.js';

/** Notification use cases: the caller's list, and marking one read. The relay job writes them. */

/** GET /notifications/: only the caller's, whatever their role, newest first. */
export async function listNotifications(ctx: AppContext, listUrl: string, actor: Actor, query: { limit: number; cursor?: string | undefined }): Promise<Page<Notification>> {
  const page = await keysetPage(ctx.paginator, notificationsQuery(ctx.db, actor.id), {
    columns: ['n.created_at', 'n.id'],
    direction: 'desc',
    keyOf: (row) => [row.created_at.toISOString(), row.id],
    ordering: 'notifications',
    limit: query.limit,
    cursor: query.cursor,
  });
  return toPage(listUrl, page, notificationView);
}

/**
 * POST /notifications/{id}/read/: only its user may mark it (anyone else gets not_found); marking a read
 * one again answers it unchanged, its first read time kept.
 */
export async function markNotificationRead(ctx: AppContext, actor: Actor, id: string): Promise<Notification> {
  const now = ctx.now();
  const result = await inSerializableTx(ctx.db, async (trx) => {
    const decision = unwrap(decideMarkRead(actor, await findNotification(trx, id), now));
    if (decision.changed) await markRead(trx, id, now);
    return decision.notification;
  });
  return notificationView(result);
}
