import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import type { DB } from '../../db/database.js';
import { ADDRESS } from './commerce-fixtures.js';
import { createTestContext, TEST_PASSWORD, type TestContext, type TestUser } from './harness.js';
import { insertOrder } from './payment-fixtures.js';

/**
 * Shared by the authorization matrix, the mass-assignment table and the bad-input sweep: the six callers
 * of API.md's rules and the objects they own, built lazily (each piece on first use), plus the served
 * operation list and a fingerprint of every table to prove that nothing was written.
 */

export const CALLERS = ['anonymous', 'customer', 'otherCustomer', 'vendorOwner', 'otherVendor', 'admin'] as const;
export type Caller = (typeof CALLERS)[number];
export type Member = Exclude<Caller, 'anonymous'>;

export const PAYSTACK_SECRET = 'sk_test_authz_world';
export const STRIPE_WEBHOOK_SECRET = 'whsec_authz_world';

/**
 * A test context whose app also has Paystack and Stripe enabled (for signed webhooks; nothing calls them,
 * payments use the fake provider) and local media in a temporary directory.
 */
export async function worldContext(): Promise<{ ctx: TestContext; close(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'nexus-authz-'));
  const ctx = await createTestContext({ env: { DATA_DIR: dataDir, PAYSTACK_SECRET_KEY: PAYSTACK_SECRET, STRIPE_SECRET_KEY: 'sk_test_authz_world', STRIPE_WEBHOOK_SECRET } });
  return {
    ctx,
    async close() {
      await ctx.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A real 1×1 PNG. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

export function pngUpload(): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----authz${randomUUID()}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
    PNG,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export interface WorldOptions {
  /** false: the two vendor users have no vendor profile yet (to create one). */
  vendorProfiles?: boolean;
}

export class World {
  readonly members: Record<Member, TestUser>;
  readonly vendorId: string | null;
  readonly otherVendorId: string | null;
  readonly categoryId: string;
  private readonly memo = new Map<string, Promise<unknown>>();

  private constructor(
    readonly ctx: TestContext,
    members: Record<Member, TestUser>,
    ids: { vendorId: string | null; otherVendorId: string | null; categoryId: string },
  ) {
    this.members = members;
    this.vendorId = ids.vendorId;
    this.otherVendorId = ids.otherVendorId;
    this.categoryId = ids.categoryId;
  }

  static async create(ctx: TestContext, options: WorldOptions = {}): Promise<World> {
    const [customer, otherCustomer, vendorOwner, otherVendor, admin] = await Promise.all([
      ctx.user('customer'),
      ctx.user('customer'),
      ctx.user('vendor'),
      ctx.user('vendor'),
      ctx.user('admin'),
    ]);
    const now = new Date();
    let vendorId: string | null = null;
    let otherVendorId: string | null = null;
    if (options.vendorProfiles !== false) {
      vendorId = randomUUID();
      otherVendorId = randomUUID();
      await ctx.db
        .insertInto('vendors')
        .values([
          { id: vendorId, user_id: vendorOwner.id, business_name: 'Owner Shop', is_active: true, created_at: now, updated_at: now },
          { id: otherVendorId, user_id: otherVendor.id, business_name: 'Other Shop', is_active: true, created_at: now, updated_at: now },
        ])
        .execute();
    }
    const categoryId = randomUUID();
    await ctx.db.insertInto('categories').values({ id: categoryId, name: 'Things', slug: `things-${categoryId}`, created_at: now, updated_at: now }).execute();
    return new World(ctx, { customer, otherCustomer, vendorOwner, otherVendor, admin }, { vendorId, otherVendorId, categoryId });
  }

  user(caller: Caller): TestUser | undefined {
    return caller === 'anonymous' ? undefined : this.members[caller];
  }

  /** Calls the API as this caller (no Authorization header for anonymous); throws unless the status is expected. */
  async call(options: InjectOptions & { as?: TestUser }, expected?: number): Promise<LightMyRequestResponse> {
    const res = await this.ctx.request(options);
    if (expected !== undefined && res.statusCode !== expected) {
      throw new Error(`fixture ${options.method} ${options.url}: ${res.statusCode} ${res.body}`);
    }
    return res;
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.memo.get(key) as Promise<T> | undefined;
    if (!value) {
      value = make();
      this.memo.set(key, value);
    }
    return value;
  }

  private requireVendor(): string {
    if (!this.vendorId) throw new Error('this world has no vendor profiles');
    return this.vendorId;
  }

  /** The vendor owner's active product (stock 100, 1000 minor units). */
  product(): Promise<string> {
    return this.once('product', async () => {
      const id = randomUUID();
      const now = new Date();
      await this.ctx.db
        .insertInto('products')
        .values({ id, vendor_id: this.requireVendor(), category_id: this.categoryId, name: 'Lamp', description: '', unit_price: 1000, stock: 100, is_active: true, created_at: now, updated_at: now })
        .execute();
      return id;
    });
  }

  /** An image of the owner's product, uploaded through the API: its id and its media key. */
  image(): Promise<{ id: string; key: string }> {
    return this.once('image', async () => {
      const productId = await this.product();
      const res = await this.call({ method: 'POST', url: `/api/v1/products/${productId}/images/`, ...pngUpload(), as: this.members.vendorOwner }, 201);
      const body = res.json<{ id: string; url: string }>();
      return { id: body.id, key: new URL(body.url).pathname.split('/').pop()! };
    });
  }

  /** The vendor owner's bank account, made through the API (the number is encrypted). */
  bankAccount(): Promise<string> {
    return this.once('bankAccount', async () => {
      this.requireVendor();
      const res = await this.call(
        { method: 'POST', url: '/api/v1/bank-accounts/', payload: { account_name: 'Owner', account_number: 'GB29NWBK6016', bank_name: 'Bank', bank_code: '001' }, as: this.members.vendorOwner },
        201,
      );
      return res.json<{ id: string }>().id;
    });
  }

  /** A line of the owner's product in the customer's active cart (checkout still open). */
  cartItem(): Promise<string> {
    return this.once('cartItem', async () => {
      const res = await this.call({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: await this.product(), quantity: 1 }, as: this.members.customer }, 201);
      return res.json<{ id: string }>().id;
    });
  }

  /** The cart line and a shipping address: a checkout that may be confirmed. */
  openCheckout(): Promise<void> {
    return this.once('openCheckout', async () => {
      await this.cartItem();
      await this.call({ method: 'PATCH', url: '/api/v1/checkout/update/', payload: { shipping_address: ADDRESS }, as: this.members.customer }, 200);
    });
  }

  confirmedCheckout(): Promise<void> {
    return this.once('confirmedCheckout', async () => {
      await this.openCheckout();
      await this.call({ method: 'POST', url: '/api/v1/checkout/confirm/', as: this.members.customer }, 200);
    });
  }

  /** An order of the customer's, pending payment, with one line of the owner's product; no payment yet. */
  private async insertOrderWithLine(): Promise<string> {
    const productId = await this.product();
    const order = await insertOrder(this.ctx.db, this.members.customer.id, { total: 1000 });
    await this.ctx.db
      .insertInto('order_items')
      .values({ id: randomUUID(), order_id: order.id, product_id: productId, vendor_id: this.requireVendor(), name: 'Lamp', unit_price: 1000, quantity: 1, line_total: 1000 })
      .execute();
    return order.id;
  }

  pendingOrder(): Promise<string> {
    return this.once('pendingOrder', () => this.insertOrderWithLine());
  }

  /** A pending (fake) payment of the pending order. */
  pendingPayment(): Promise<{ id: string; reference: string }> {
    return this.once('pendingPayment', async () => {
      const res = await this.call({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: await this.pendingOrder() }, as: this.members.customer }, 201);
      const body = res.json<{ id: string; reference: string }>();
      return { id: body.id, reference: body.reference };
    });
  }

  /** Another order of the customer's, paid through the fake provider: its succeeded payment. */
  paidPayment(): Promise<{ id: string; orderId: string }> {
    return this.once('paidPayment', async () => {
      const orderId = await this.insertOrderWithLine();
      const made = await this.call({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: orderId }, as: this.members.customer }, 201);
      const { id, reference } = made.json<{ id: string; reference: string }>();
      await this.call({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference }, as: this.members.customer }, 200);
      return { id, orderId };
    });
  }

  /** An unread notification of the customer's. */
  notification(): Promise<string> {
    return this.once('notification', async () => {
      const id = randomUUID();
      await this.ctx.db
        .insertInto('notifications')
        .values({ id, user_id: this.members.customer.id, outbox_id: null, kind: 'order_expired', subject_id: randomUUID(), message: 'Your order expired', created_at: new Date(), read_at: null })
        .execute();
      return id;
    });
  }

  /** A category without products (deletable). */
  emptyCategory(): Promise<string> {
    return this.once('emptyCategory', async () => {
      const id = randomUUID();
      const now = new Date();
      await this.ctx.db.insertInto('categories').values({ id, name: 'Empty', slug: `empty-${id}`, created_at: now, updated_at: now }).execute();
      return id;
    });
  }

  /** A vendor user without a vendor profile. */
  profilelessVendor(): Promise<TestUser> {
    return this.once('profilelessVendor', () => this.ctx.user('vendor'));
  }

  /** A fresh refresh token of this member (anonymous: the customer's), from a real login. */
  async refreshTokenOf(caller: Caller): Promise<string> {
    const user = this.user(caller) ?? this.members.customer;
    const res = await this.call({ method: 'POST', url: '/api/v1/login/', payload: { email: user.email, password: TEST_PASSWORD } }, 200);
    return res.json<{ refresh: string }>().refresh;
  }
}

/** An operation of the served OpenAPI document. */
export interface Operation {
  key: string;
  method: string;
  path: string;
  op: OpenApiOperation;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  default?: unknown;
}

export interface OpenApiOperation {
  summary?: string;
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
}

/** Every operation the app serves, from its OpenAPI document at /docs/json: "METHOD /path". */
export async function servedOperations(ctx: TestContext): Promise<Operation[]> {
  const res = await ctx.request({ method: 'GET', url: '/docs/json' });
  if (res.statusCode !== 200) throw new Error(`/docs/json: ${res.statusCode}`);
  const doc = res.json<{ paths: Record<string, Record<string, OpenApiOperation>> }>();
  const ops: Operation[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      ops.push({ key: `${method.toUpperCase()} ${p}`, method: method.toUpperCase(), path: p, op });
    }
  }
  return ops;
}

/** Fills {name} placeholders of an OpenAPI path. */
export function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
    return encodeURIComponent(value);
  });
}

/** The application tables (the migrator's own left out). */
export async function applicationTables(db: DB): Promise<string[]> {
  const { rows } = await sql<{ t: string }>`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%' ORDER BY 1`.execute(db);
  return rows.map((r) => r.t);
}

/** Row count and an md5 of the contents of each table, in one query: equal fingerprints mean nothing was written. */
export async function fingerprint(db: DB, tables: readonly string[]): Promise<Record<string, string>> {
  const columns = tables.map(
    (t) => sql`(SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM ${sql.table(t)} x) AS ${sql.ref(t)}`,
  );
  const { rows } = await sql<Record<string, string>>`SELECT ${sql.join(columns)}`.execute(db);
  return rows[0]!;
}

/** The tables whose fingerprints differ. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((t) => before[t] !== after[t]);
}

/** Path parameters for the routes the authorization tests call: `{ id }` of a thing the world makes (on first use). */
export const pathIds = {
  customer: async (w: World) => ({ id: w.members.customer.id }),
  vendorOwner: async (w: World) => ({ id: w.members.vendorOwner.id }),
  vendor: async (w: World) => ({ id: w.vendorId! }),
  bankAccount: async (w: World) => ({ id: await w.bankAccount() }),
  category: async (w: World) => ({ id: w.categoryId }),
  product: async (w: World) => ({ id: await w.product() }),
  cartItem: async (w: World) => ({ id: await w.cartItem() }),
  pendingOrder: async (w: World) => ({ id: await w.pendingOrder() }),
  pendingPayment: async (w: World) => ({ id: (await w.pendingPayment()).id }),
  paidPayment: async (w: World) => ({ id: (await w.paidPayment()).id }),
  notification: async (w: World) => ({ id: await w.notification() }),
};
