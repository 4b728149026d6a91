import { sql } from 'kysely';
import type { OrderLine, OrderState, OrderStatus } from '../../core/order.js';
import type { OrderFacts } from '../../core/notification.js';
import type { DB, Trx } from '../../db/database.js';

/** orders and order_items. Payments read these tables directly too. */

export interface OrderRecord extends OrderState {
  number: number;
}

const orderColumns = [
  'o.id',
  'o.number',
  'o.customer_id',
  'o.checkout_id',
  'o.status',
  'o.subtotal',
  'o.total',
  'o.currency',
  'o.shipping_address',
  'o.contact_phone',
  'o.payment_due_by',
  'o.paid_at',
  'o.cancelled_at',
  'o.expired_at',
  'o.refunded_at',
  'o.created_at',
] as const;

/** The order and its lines in one statement (the lines' insert takes the order's from a CTE); returns its number. */
export async function insertOrder(trx: Trx, order: OrderState): Promise<number> {
  if (order.items.length === 0) throw new Error(`order ${order.id} has no lines`);
  const row = await trx
    .with('o', (db) =>
      db
        .insertInto('orders')
        .values({
          id: order.id,
          customer_id: order.customer_id,
          checkout_id: order.checkout_id,
          status: order.status,
          subtotal: order.subtotal,
          total: order.total,
          currency: order.currency,
          shipping_address: JSON.stringify(order.shipping_address),
          contact_phone: order.contact_phone,
          payment_due_by: order.payment_due_by,
          created_at: order.created_at,
          updated_at: order.created_at,
        })
        .returning('number'),
    )
    .insertInto('order_items')
    .values(order.items.map((i) => ({ ...i, order_id: order.id })))
    .returning((eb) => eb.selectFrom('o').select('o.number').as('number'))
    .executeTakeFirstOrThrow();
  if (row.number === null) throw new Error(`order ${order.id}: no number returned`);
  return row.number;
}

export async function linesOf(db: DB | Trx, orderIds: readonly string[]): Promise<Map<string, OrderLine[]>> {
  const byOrder = new Map<string, OrderLine[]>(orderIds.map((id) => [id, []]));
  if (orderIds.length === 0) return byOrder;
  const rows = await db
    .selectFrom('order_items')
    .select(['id', 'order_id', 'product_id', 'vendor_id', 'name', 'unit_price', 'quantity', 'line_total'])
    .where('order_id', 'in', [...orderIds])
    .orderBy('name')
    .orderBy('id')
    .execute();
  for (const { order_id, ...line } of rows) byOrder.get(order_id)?.push(line);
  return byOrder;
}

export async function findOrder(db: DB | Trx, orderId: string): Promise<OrderRecord | undefined> {
  const row = await db.selectFrom('orders as o').select(orderColumns).where('o.id', '=', orderId).executeTakeFirst();
  if (!row) return undefined;
  return { ...row, items: (await linesOf(db, [orderId])).get(orderId) ?? [] };
}

/** Orders as a keyset-paginatable query (ordering and limit left to the caller). */
export function ordersQuery(db: DB, filter: { customerId?: string; vendorIds?: readonly string[]; status?: OrderStatus }) {
  let q = db.selectFrom('orders as o').select(orderColumns);
  if (filter.customerId !== undefined) q = q.where('o.customer_id', '=', filter.customerId);
  if (filter.vendorIds !== undefined) {
    const vendorIds = filter.vendorIds.length > 0 ? [...filter.vendorIds] : ['00000000-0000-0000-0000-000000000000'];
    q = q.where(({ exists, selectFrom }) =>
      exists(selectFrom('order_items as oi').select('oi.id').whereRef('oi.order_id', '=', 'o.id').where('oi.vendor_id', 'in', vendorIds)),
    );
  }
  if (filter.status !== undefined) q = q.where('o.status', '=', filter.status);
  return q;
}

export async function saveOrderStatus(trx: Trx, order: OrderState, now: Date): Promise<void> {
  await trx
    .updateTable('orders')
    .set({ status: order.status, paid_at: order.paid_at, cancelled_at: order.cancelled_at, expired_at: order.expired_at, updated_at: now })
    .where('id', '=', order.id)
    .execute();
}

/**
 * The expiry job's sweep: the pending_payment orders past payment_due_by, soonest due first. The index it
 * reads holds the orders still watched (orders_expiry_watch_idx, migration 0011); the same statement
 * unwatches the due orders that have left pending_payment (paid, cancelled, expired, refunded: none ever
 * returns to it), so the index stays as small as the orders not yet due plus those pending, and a status
 * change never has to touch it.
 */
export async function overdueOrderIds(db: DB, now: Date, limit: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    WITH unwatched AS (
      UPDATE orders SET expiry_watched = false
       WHERE id = ANY (ARRAY(SELECT id FROM orders WHERE expiry_watched AND payment_due_by <= ${now} AND status <> 'pending_payment' LIMIT ${limit * 20}))
    )
    SELECT id FROM orders
     WHERE expiry_watched AND payment_due_by <= ${now} AND status = 'pending_payment'
     ORDER BY payment_due_by
     LIMIT ${limit}`.execute(db);
  return rows.map((r) => r.id);
}

export async function vendorIdsOfUser(db: DB | Trx, userId: string): Promise<string[]> {
  return (await db.selectFrom('vendors').select('id').where('user_id', '=', userId).execute()).map((r) => r.id);
}

/** What the relay needs to tell people about orders: number, customer, and each line's vendor with its user. */
export async function orderNotificationFacts(db: DB | Trx, orderIds: readonly string[]): Promise<Map<string, OrderFacts>> {
  if (orderIds.length === 0) return new Map();
  const orders = await db.selectFrom('orders').select(['id', 'number', 'customer_id']).where('id', 'in', [...orderIds]).execute();
  const lines = await db
    .selectFrom('order_items as i')
    .innerJoin('vendors as v', 'v.id', 'i.vendor_id')
    .select(['i.order_id', 'i.vendor_id', 'v.user_id'])
    .where('i.order_id', 'in', [...orderIds])
    .orderBy('i.order_id')
    .orderBy('i.id')
    .execute();
  return new Map(
    orders.map((o) => {
      const own = lines.filter((l) => l.order_id === o.id);
      return [o.id, { number: o.number, customer_id: o.customer_id, lineVendorIds: own.map((l) => l.vendor_id), vendorUsers: new Map(own.map((l) => [l.vendor_id, l.user_id])) }];
    }),
  );
}
