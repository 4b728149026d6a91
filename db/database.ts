import type { ColumnType, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { FrozenItem, ShippingAddress, StoredCheckoutStatus } from '../core/checkout.js';
import type { NotificationKind } from '../core/notification.js';
import type { OrderStatus } from '../core/order.js';
import type { PaymentStatus } from '../core/payment.js';
import type { RefundStatus } from '../core/refund.js';
import type { Role } from '../core/policy.js';

export type { FrozenItem, OrderStatus, PaymentStatus, RefundStatus, Role, ShippingAddress };

/**
 * The database schema as Kysely sees it. Migrations in db/migrations are the source of truth;
 * keep these types in step with them.
 *
 * bigint columns (money, order numbers, counts) are parsed as JS numbers by the drivers (see shell/db.ts):
 * every amount fits well inside 2^53 minor units.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Money = ColumnType<number, number, number>;

export interface UsersTable {
  id: string;
  email: string;
  full_name: ColumnType<string, string | undefined, string>;
  password_hash: string;
  role: Role;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  token_version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RefreshFamiliesTable {
  id: string;
  user_id: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  token_hash: string;
  expires_at: Timestamp;
  spent_at: Timestamp | null;
  created_at: Timestamp;
}

export interface VendorsTable {
  id: string;
  user_id: string;
  business_name: string;
  description: ColumnType<string, string | undefined, string>;
  support_email: string | null;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface BankAccountsTable {
  id: string;
  vendor_id: string;
  account_name: string;
  bank_name: string;
  bank_code: string;
  account_number_ciphertext: string;
  account_number_key_id: string;
  account_number_last4: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CategoriesTable {
  id: string;
  name: string;
  slug: string;
  description: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProductsTable {
  id: string;
  vendor_id: string;
  category_id: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  unit_price: Money;
  stock: number;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  deleted_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProductImagesTable {
  id: string;
  product_id: string;
  /** The media store's key (local file name or Cloudinary public_id); URLs are built from it per response. */
  storage_key: string;
  content_type: string;
  size_bytes: number;
  created_at: Timestamp;
}

export interface CartsTable {
  id: string;
  customer_id: string;
  status: 'active' | 'closed';
  created_at: Timestamp;
  closed_at: Timestamp | null;
}

export interface CartItemsTable {
  id: string;
  cart_id: string;
  product_id: string;
  quantity: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type Json<T> = ColumnType<T, string, string>;

export interface CheckoutsTable {
  id: string;
  cart_id: string;
  customer_id: string;
  status: StoredCheckoutStatus;
  shipping_address: Json<ShippingAddress> | null;
  contact_phone: string | null;
  frozen_items: Json<FrozenItem[]> | null;
  subtotal: Money | null;
  total: Money | null;
  confirmed_at: Timestamp | null;
  expires_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OrdersTable {
  id: string;
  number: ColumnType<number, never, never>;
  customer_id: string;
  checkout_id: string;
  status: OrderStatus;
  subtotal: Money;
  total: Money;
  currency: string;
  shipping_address: Json<ShippingAddress>;
  contact_phone: string | null;
  payment_due_by: Timestamp;
  paid_at: Timestamp | null;
  cancelled_at: Timestamp | null;
  expired_at: Timestamp | null;
  refunded_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Still in the expiry job's index: true from creation until the job has seen the order leave pending_payment. */
  expiry_watched: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OrderItemsTable {
  id: string;
  order_id: string;
  product_id: string;
  vendor_id: string;
  name: string;
  unit_price: Money;
  quantity: number;
  line_total: Money;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: Json<unknown> | null;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface PaymentsTable {
  id: string;
  order_id: string;
  customer_id: string;
  provider: 'fake' | 'paystack' | 'stripe';
  reference: string;
  provider_payment_id: string | null;
  amount: Money;
  currency: string;
  status: PaymentStatus;
  method: string | null;
  next_action: Json<{ type: 'redirect'; url: string } | null> | null;
  failure_reason: string | null;
  needs_refund: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  succeeded_at: Timestamp | null;
  refunded_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface RefundsTable {
  id: string;
  payment_id: string;
  amount: Money;
  currency: string;
  status: RefundStatus;
  reason: string;
  /** The admin who asked; null for a refund the provider reported that was not asked through this API. */
  requested_by: string | null;
  idempotency_key: string | null;
  provider_refund_id: string | null;
  failure_reason: string | null;
  requested_at: Timestamp;
  completed_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface WebhookEventsTable {
  id: string;
  provider: string;
  event_id: string;
  event_type: string;
  reference: string | null;
  payload: Json<unknown>;
  outcome: string;
  received_at: Timestamp;
}

export interface OutboxTable {
  id: string;
  kind: NotificationKind;
  subject_id: string;
  payload: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
  sent_at: Timestamp | null;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  /** Null once the sent outbox row has been deleted. */
  outbox_id: string | null;
  kind: NotificationKind;
  subject_id: string;
  message: string;
  created_at: Timestamp;
  read_at: Timestamp | null;
  emailed_at: Timestamp | null;
  email_attempts: ColumnType<number, number | undefined, number>;
  last_email_error: string | null;
}

export interface Database {
  users: UsersTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  vendors: VendorsTable;
  bank_accounts: BankAccountsTable;
  categories: CategoriesTable;
  products: ProductsTable;
  product_images: ProductImagesTable;
  carts: CartsTable;
  cart_items: CartItemsTable;
  checkouts: CheckoutsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
  idempotency_keys: IdempotencyKeysTable;
  payments: PaymentsTable;
  refunds: RefundsTable;
  webhook_events: WebhookEventsTable;
  outbox: OutboxTable;
  notifications: NotificationsTable;
}

export type DB = Kysely<Database>;
export type Trx = Transaction<Database>;

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type VendorRow = Selectable<VendorsTable>;
export type ProductRow = Selectable<ProductsTable>;
export type CategoryRow = Selectable<CategoriesTable>;
export type OrderRow = Selectable<OrdersTable>;
export type PaymentRow = Selectable<PaymentsTable>;
export type RefundRow = Selectable<RefundsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NotificationRow = Selectable<NotificationsTable>;
