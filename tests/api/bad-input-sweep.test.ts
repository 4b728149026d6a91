import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPaystack, signStripe } from '../../shell/payments/signatures.js';
import { ADDRESS } from '../support/commerce-fixtures.js';
import type { TestContext } from '../support/harness.js';
import { TEST_PASSWORD } from '../support/harness.js';
import {
  applicationTables,
  changedTables,
  fillPath,
  fingerprint,
  PAYSTACK_SECRET,
  servedOperations,
  STRIPE_WEBHOOK_SECRET,
  World,
  worldContext,
  type Caller,
  type JsonSchema,
  type Operation,
} from '../support/authz-world.js';

/**
 * API.md, Conventions: "Hostile input gets a 4xx, never a 5xx, and nothing is written." A property-based
 * sweep (fast-check, seeded) over every served operation that takes a JSON body or a query string, read
 * from the served OpenAPI document. Each generated input is sent by a caller allowed to use the route
 * (an admin where the route allows one, so authorization cannot hide validation) on real objects.
 *
 * Bodies: a valid body of the route with one to three mutations that each make it invalid by the
 * route's own schema (a wrong type, a number out of range or not an integer, 1e309, U+0000 or a lone
 * surrogate in text, a string over its maxLength, an empty required string, a value outside an enum, a
 * string failing the pattern, a required field removed, an unknown key, nesting up to 40 levels), or a
 * body that is not an object at all (array, scalar, null, malformed JSON); ids may also be unknown
 * upper-case UUIDs and known ids sent in upper case. Every such input must be refused: a 4xx
 * problem+json, and no table changed (row counts and contents).
 * Queries (reads): junk for every parameter (signs, exponents, hex, floats, huge numbers, U+0000, lone
 * surrogates and broken percent-encoding, 6 000-character values, repeated and unknown parameters):
 * never a 5xx, problem+json for every 4xx, nothing written.
 * The payment webhook reads its body raw (the document shows no body schema), so it is added by hand:
 * correctly signed Paystack and Stripe events carrying hostile values anywhere (U+0000, lone surrogates,
 * wrong types, 1e309, deep nesting) for references nobody has: never a 5xx; a 4xx writes nothing, a 200
 * may only record the event (webhook_events).
 */

const SEED = 20_240_612;
const RUNS = 30;

interface SweepTarget {
  caller: Caller;
  params?: (w: World) => Promise<Record<string, string>>;
  /** A valid body for this caller (the mutations start from it). */
  base?: (w: World) => Promise<Record<string, unknown>> | Record<string, unknown>;
}

const SWEEP: Record<string, SweepTarget> = {
  'POST /api/v1/login/': { caller: 'anonymous', base: (w) => ({ email: w.members.customer.email, password: TEST_PASSWORD }) },
  'POST /api/v1/token/refresh/': { caller: 'anonymous', base: async (w) => ({ refresh: await w.refreshTokenOf('customer') }) },
  'POST /api/v1/logout/': { caller: 'anonymous', base: async (w) => ({ refresh: await w.refreshTokenOf('customer') }) },
  'POST /api/v1/users/': { caller: 'admin', base: () => ({ email: `sweep-${randomUUID().slice(0, 8)}@example.test`, password: 'a-long-enough-password', full_name: 'Sweep', role: 'vendor', is_active: true }) },
  'GET /api/v1/users/': { caller: 'admin' },
  'PATCH /api/v1/users/{id}/': { caller: 'admin', params: async (w) => ({ id: w.members.customer.id }), base: () => ({ full_name: 'Renamed' }) },
  'POST /api/v1/vendors/': { caller: 'admin', base: async (w) => ({ business_name: 'Sweep Shop', description: 'd', support_email: 'shop@example.test', user_id: (await w.profilelessVendor()).id }) },
  'GET /api/v1/vendors/': { caller: 'admin' },
  'PATCH /api/v1/vendors/{id}/': { caller: 'admin', params: async (w) => ({ id: w.vendorId! }), base: () => ({ business_name: 'Renamed', is_active: true }) },
  'POST /api/v1/bank-accounts/': { caller: 'admin', base: (w) => ({ account_name: 'Payout', account_number: '12345678', bank_name: 'Bank', bank_code: '044', vendor_id: w.otherVendorId }) },
  'GET /api/v1/bank-accounts/': { caller: 'admin' },
  'PATCH /api/v1/bank-accounts/{id}/': { caller: 'admin', params: async (w) => ({ id: await w.bankAccount() }), base: () => ({ account_name: 'Renamed', account_number: 'ABC123456' }) },
  'GET /api/v1/categories/': { caller: 'anonymous' },
  'POST /api/v1/categories/': { caller: 'admin', base: () => ({ name: `Sweep ${randomUUID().slice(0, 8)}`, description: 'd' }) },
  'PATCH /api/v1/categories/{id}/': { caller: 'admin', params: async (w) => ({ id: w.categoryId }), base: () => ({ description: 'd' }) },
  'GET /api/v1/products/': { caller: 'anonymous' },
  'POST /api/v1/products/': { caller: 'admin', base: (w) => ({ name: 'Sweep', description: 'd', unit_price: 100, stock: 1, category_id: w.categoryId, is_active: true, vendor_id: w.vendorId }) },
  'PATCH /api/v1/products/{id}/': { caller: 'admin', params: async (w) => ({ id: await w.product() }), base: (w) => ({ name: 'Renamed', unit_price: 200, stock: 5, category_id: w.categoryId }) },
  'POST /api/v1/cart-items/': { caller: 'customer', base: async (w) => ({ product_id: await w.product(), quantity: 1 }) },
  'PATCH /api/v1/cart-items/{id}/': { caller: 'customer', params: async (w) => ({ id: await w.cartItem() }), base: () => ({ quantity: 2 }) },
  'PATCH /api/v1/checkout/update/': { caller: 'customer', base: () => ({ shipping_address: { ...ADDRESS, line2: 'Flat 2', region: 'IL' }, contact_phone: '+1 555 0100' }) },
  'POST /api/v1/checkout/confirm/': { caller: 'customer' },
  'POST /api/v1/checkout/cancel/': { caller: 'customer' },
  'POST /api/v1/orders/create/': { caller: 'customer' },
  'GET /api/v1/orders/': { caller: 'admin' },
  'POST /api/v1/orders/{id}/cancel/': { caller: 'admin', params: async (w) => ({ id: await w.pendingOrder() }) },
  'POST /api/v1/payments/initiate/': { caller: 'customer', base: async (w) => ({ order_id: await w.pendingOrder(), provider: 'fake', method: 'card' }) },
  'POST /api/v1/payments/confirm/': { caller: 'admin', base: async (w) => ({ reference: (await w.pendingPayment()).reference }) },
  'GET /api/v1/payments/': { caller: 'admin' },
  'POST /api/v1/payments/{id}/refund/': { caller: 'admin', params: async (w) => ({ id: (await w.paidPayment()).id }), base: () => ({ reason: 'Returned' }) },
  'GET /api/v1/notifications/': { caller: 'customer' },
  'POST /api/v1/notifications/{id}/read/': { caller: 'customer', params: async (w) => ({ id: await w.notification() }) },
  // Raw body, authenticated by the provider's signature: swept with signed events (below).
  'POST /api/v1/payments/webhooks/{provider}/': { caller: 'anonymous' },
};

const WEBHOOK = 'POST /api/v1/payments/webhooks/{provider}/';

// ---------------------------------------------------------------------------------------------------
// JSON text with tokens JSON.stringify cannot write (1e309, 30-digit integers), built by hand.

class RawJson {
  constructor(readonly text: string) {}
  toString() {
    return this.text;
  }
}

function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Sets an own property, even "__proto__". */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const clone = (value: unknown): unknown =>
  value instanceof RawJson ? value : Array.isArray(value) ? value.map(clone) : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)])) : value;

// ---------------------------------------------------------------------------------------------------
// Values that a field's schema refuses.

function typesOf(schema: JsonSchema): Set<string> {
  const types = new Set<string>();
  const add = (s: JsonSchema) => {
    if (s.anyOf) s.anyOf.forEach(add);
    else if (Array.isArray(s.type)) s.type.forEach((t) => types.add(t));
    else if (s.type) types.add(s.type);
  };
  add(schema);
  if (types.has('integer')) types.add('number:int');
  return types;
}

/** The branch of an anyOf that carries the string constraints (support_email is string | null). */
const stringBranch = (schema: JsonSchema): JsonSchema => schema.anyOf?.find((s) => s.type === 'string') ?? schema;
const numberBranch = (schema: JsonSchema): JsonSchema => schema.anyOf?.find((s) => s.type === 'integer' || s.type === 'number') ?? schema;

function deepArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}
function deepObject(depth: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < depth; i++) value = { n: value };
  return value;
}

const NUL = '\u0000';
const HIGH = '\ud800';
const LOW = '\udfff';
const insertAt = (text: string, at: number, poison: string) => text.slice(0, at % (text.length + 1)) + poison + text.slice(at % (text.length + 1));
const anyScalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));
const uuidLike = fc.uuid().map((u) => u.toUpperCase());

/** An arbitrary of values the schema refuses (by type, range, length, pattern, enum or poisoned text). */
function refusedBy(schema: JsonSchema): fc.Arbitrary<unknown> {
  const types = typesOf(schema);
  const options: fc.Arbitrary<unknown>[] = [];
  const weighted: fc.WeightedArbitrary<unknown>[] = [];
  if (!types.has('string')) {
    options.push(fc.constantFrom('NaN', 'Infinity', '-1', '1e3', '12', 'true', '', ' '), fc.string({ maxLength: 12 }), uuidLike);
  } else {
    const s = stringBranch(schema);
    const sample = fc.string({ minLength: 0, maxLength: 12, unit: 'grapheme-ascii' });
    options.push(
      fc.tuple(sample, fc.nat()).map(([text, at]) => insertAt(text, at, NUL)),
      fc.tuple(sample, fc.nat(), fc.constantFrom(HIGH, LOW)).map(([text, at, lone]) => insertAt(text, at, lone)),
    );
    if (s.maxLength !== undefined) options.push(fc.integer({ min: s.maxLength + 1, max: s.maxLength + 3000 }).map((n) => 'a'.repeat(n)));
    if ((s.minLength ?? 0) >= 1 || s.enum || s.format === 'uuid') options.push(fc.constant(''));
    if (s.enum) {
      const allowed = s.enum as string[];
      options.push(fc.oneof(fc.constantFrom(...allowed.map((v) => v.toUpperCase()), ...allowed.map((v) => ` ${v}`)), fc.string({ maxLength: 10 })).filter((v) => !allowed.includes(v)));
    }
    if (s.pattern) {
      const pattern = new RegExp(s.pattern);
      options.push(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('not-a-uuid', '12345', 'a'.repeat(35), `${randomUUID()}x`, '0x1F', '1e3')).filter((v) => !pattern.test(v)));
    }
    // An id nobody has (in upper case): refused as unknown wherever a route takes an id in its body.
    // Weighted up: these pass the schema and are refused by the service (404, or 400 at the field).
    if (s.format === 'uuid') weighted.push({ arbitrary: uuidLike, weight: options.length });
    if (s.format === 'email') options.push(fc.oneof(fc.string({ maxLength: 20 }).filter((v) => !v.includes('@')), fc.constantFrom('a@', '@example.test', 'a@@b.c')));
  }
  if (!types.has('number') && !types.has('integer')) {
    options.push(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(new RawJson('1e309'), new RawJson('-1e309'), new RawJson('123456789012345678901234567890')));
  } else {
    const n = numberBranch(schema);
    const min = n.minimum ?? Number.MIN_SAFE_INTEGER;
    const max = n.maximum ?? Number.MAX_SAFE_INTEGER;
    if (types.has('integer')) options.push(fc.integer({ min: Math.max(min, -1e9), max: Math.min(max - 1, 1e9) }).map((v) => v + 0.5), fc.constantFrom(new RawJson('0.5'), new RawJson('1.25e1')));
    if (min > Number.MIN_SAFE_INTEGER) options.push(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }), fc.constant(min - 1));
    if (max < Number.MAX_SAFE_INTEGER) options.push(fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }), fc.constant(max + 1));
    options.push(fc.constantFrom(new RawJson('1e309'), new RawJson('-1e309'), new RawJson('123456789012345678901234567890')));
  }
  if (!types.has('boolean')) options.push(fc.boolean());
  if (!types.has('null')) options.push(fc.constant(null));
  if (!types.has('array')) options.push(fc.array(anyScalar, { maxLength: 4 }), fc.integer({ min: 2, max: 40 }).map(deepArray));
  if (!types.has('object')) options.push(fc.dictionary(fc.string({ maxLength: 6 }), anyScalar, { maxKeys: 3 }), fc.integer({ min: 2, max: 40 }).map(deepObject));
  return fc.oneof(...options.map((arbitrary) => ({ arbitrary, weight: 1 })), ...weighted);
}

// ---------------------------------------------------------------------------------------------------
// Mutations of a valid body, each of which the schema refuses on its own.

interface Slot {
  path: string[];
  schema: JsonSchema;
  required: boolean;
}

/** Every property of an object schema, nested objects included. */
function slotsOf(schema: JsonSchema, prefix: string[] = []): Slot[] {
  const slots: Slot[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, name];
    slots.push({ path, schema: child, required: (schema.required ?? []).includes(name) });
    if (child.type === 'object') slots.push(...slotsOf(child, path));
  }
  return slots;
}

/** Every object schema in the body (the body itself, shipping_address…): where unknown keys can go. */
function objectsOf(schema: JsonSchema, prefix: string[] = []): { path: string[]; known: string[] }[] {
  const here = { path: prefix, known: Object.keys(schema.properties ?? {}) };
  return [here, ...Object.entries(schema.properties ?? {}).flatMap(([name, child]) => (child.type === 'object' ? objectsOf(child, [...prefix, name]) : []))];
}

type Mutation = { kind: 'set'; path: string[]; value: unknown } | { kind: 'remove'; path: string[] } | { kind: 'unknown'; path: string[]; key: string; value: unknown };

const SMUGGLED = ['role', 'is_active', 'vendor_id', 'stock', 'status', 'amount', 'price', 'unit_price', 'total', 'customer_id', 'id', 'created_at', '__proto__', 'constructor', 'prototype', 'Email', 'NAME', ''];

function mutationOf(schema: JsonSchema): fc.Arbitrary<Mutation> {
  const slots = slotsOf(schema);
  const objects = objectsOf(schema);
  const options: fc.WeightedArbitrary<Mutation>[] = [];
  if (slots.length) {
    const set = fc.constantFrom(...slots).chain((slot) => refusedBy(slot.schema).map((value): Mutation => ({ kind: 'set', path: slot.path, value })));
    options.push({ arbitrary: set, weight: 4 });
  }
  const required = slots.filter((s) => s.required);
  if (required.length) options.push({ arbitrary: fc.constantFrom(...required).map((slot): Mutation => ({ kind: 'remove', path: slot.path })), weight: 1 });
  const unknownKey = fc
    .tuple(fc.constantFrom(...objects), fc.oneof(fc.constantFrom(...SMUGGLED), fc.string({ minLength: 1, maxLength: 20 })), fc.oneof(anyScalar, fc.integer({ min: 2, max: 40 }).map(deepArray)))
    .filter(([object, key]) => !object.known.includes(key))
    .map(([object, key, value]): Mutation => ({ kind: 'unknown', path: object.path, key, value }));
  options.push({ arbitrary: unknownKey, weight: 1 });
  return fc.oneof(...options);
}

/** The object at path, made (replacing whatever is there) when missing or not an object. */
function objectAt(body: Record<string, unknown>, path: string[]): Record<string, unknown> {
  let here = body;
  for (const name of path) {
    const next = here[name];
    if (next === null || typeof next !== 'object' || Array.isArray(next) || next instanceof RawJson) setOwn(here, name, {});
    here = here[name] as Record<string, unknown>;
  }
  return here;
}

function apply(body: Record<string, unknown>, mutation: Mutation): void {
  if (mutation.kind === 'unknown') return setOwn(objectAt(body, mutation.path), mutation.key, mutation.value);
  const parent = objectAt(body, mutation.path.slice(0, -1));
  const name = mutation.path[mutation.path.length - 1]!;
  if (mutation.kind === 'set') setOwn(parent, name, mutation.value);
  else delete parent[name];
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Known ids in upper case: the same ids (accepted), noise on top of the refused mutations. */
function upperCaseIds(value: unknown): unknown {
  if (typeof value === 'string' && UUID_TEXT.test(value)) return value.toUpperCase();
  if (Array.isArray(value)) return value.map(upperCaseIds);
  if (value !== null && typeof value === 'object' && !(value instanceof RawJson)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, upperCaseIds(v)]));
  return value;
}

/** A JSON body the route must refuse, as the text sent. */
function refusedBody(schema: JsonSchema, base: Record<string, unknown>, bodyOptional: boolean): fc.Arbitrary<{ text: string; what: string }> {
  const notAnObject = fc.oneof(
    fc.array(anyScalar, { maxLength: 3 }),
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.boolean(),
    fc.integer({ min: 2, max: 40 }).map(deepArray),
    fc.integer({ min: 2, max: 40 }).map((d) => ({ zz_nested: deepObject(d) })),
    fc.constantFrom(new RawJson('1e309'), new RawJson('[')),
    ...(bodyOptional ? [] : [fc.constant(null)]),
  );
  const whole = notAnObject.map((value) => ({ text: toJson(value), what: 'whole body replaced' }));
  const malformed = fc.constantFrom('{"a":', '{"a" 1}', "{'a':1}", '{"a":1,}', '\u0000', '{"a":"\\ud800"', 'nul').map((text) => ({ text, what: 'malformed JSON' }));
  // Mostly one mutation (so each reaches its own check), sometimes two or three together.
  const mutations = fc.oneof({ arbitrary: fc.array(mutationOf(schema), { minLength: 1, maxLength: 1 }), weight: 3 }, { arbitrary: fc.array(mutationOf(schema), { minLength: 2, maxLength: 3 }), weight: 2 });
  const mutated = fc.record({ mutations, upper: fc.boolean() }).map(({ mutations, upper }) => {
    const body = clone(base) as Record<string, unknown>;
    for (const m of mutations) apply(body, m);
    return { text: toJson(upper ? upperCaseIds(body) : body), what: mutations.map((m) => `${m.kind} ${[...m.path, ...(m.kind === 'unknown' ? [m.key] : [])].join('.')}`).join(', ') };
  });
  return fc.oneof({ arbitrary: mutated, weight: 6 }, { arbitrary: whole, weight: 2 }, { arbitrary: malformed, weight: 1 });
}

// ---------------------------------------------------------------------------------------------------
// Query strings.

/** Percent-encodes text as UTF-8, writing a lone surrogate as its 3-byte (WTF-8) form, as a sloppy client would. */
function percentEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(text[i]!);
    }
  }
  return out;
}

/** A hostile value for one query parameter, already encoded for the URL. */
const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '-1', '0', '101', '1.5', '1e3', '0x10', '+5', ' 5', '5 ', 'NaN', 'Infinity', '-Infinity', '99999999999999999999999', 'null', 'true', 'TRUE', '[]', '{}', 'ADMIN', 'PAID', '-price', 'not-a-uuid').map(percentEncode),
  uuidLike.map(percentEncode),
  fc.string({ maxLength: 30, unit: 'binary' }).map(percentEncode),
  fc.tuple(fc.string({ maxLength: 8 }), fc.nat(), fc.constantFrom(NUL, HIGH, LOW)).map(([t, at, p]) => percentEncode(insertAt(t, at, p))),
  fc.constantFrom('%zz', '%E0%A4', '%', '%ED%A0%80', '%C0%80', '%FF'),
  fc.integer({ min: 200, max: 6000 }).map((n) => 'a'.repeat(n)),
);

function queryOf(params: string[]): fc.Arbitrary<{ text: string; what: string }> {
  const pair = fc.tuple(fc.oneof(fc.constantFrom(...params), fc.constantFrom('role', 'offset', 'page', 'limit[]', 'x')), hostileQueryValue);
  return fc.array(pair, { minLength: 1, maxLength: 4 }).map((pairs) => ({
    text: pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&'),
    what: pairs.map(([k]) => k).join(', '),
  }));
}

// ---------------------------------------------------------------------------------------------------

// Signed webhook events with hostile values somewhere in them.

/** A value a provider event should never carry, or that a parser must survive. */
const hostileEventValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.string({ maxLength: 10 }), fc.nat(), fc.constantFrom(NUL, HIGH, LOW)).map(([t, at, p]) => insertAt(t, at, p)),
  fc.constantFrom(new RawJson('1e309'), new RawJson('-1e309'), new RawJson('123456789012345678901234567890'), new RawJson('0.5')),
  fc.integer({ min: 2, max: 40 }).map(deepArray),
  fc.integer({ min: 2, max: 30 }).map(deepObject),
  anyScalar,
  fc.integer({ min: 300, max: 5000 }).map((n) => 'a'.repeat(n)),
);

/** Sets value at a path of plain objects, making the objects on the way. */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const parent = objectAt(target, path.slice(0, -1));
  setOwn(parent, path[path.length - 1]!, value);
}

function webhookEvent(provider: 'paystack' | 'stripe'): fc.Arbitrary<{ text: string; what: string; provider: string }> {
  const base = (): Record<string, unknown> =>
    provider === 'paystack'
      ? { event: 'charge.success', data: { reference: `unknown_${randomUUID()}`, amount: 1000, currency: 'USD', status: 'success', metadata: {} } }
      : {
          id: `evt_${randomUUID()}`,
          object: 'event',
          type: 'payment_intent.succeeded',
          created: Math.floor(Date.now() / 1000),
          data: { object: { id: `pi_${randomUUID()}`, object: 'payment_intent', amount: 1000, currency: 'usd', status: 'succeeded', metadata: { reference: `unknown_${randomUUID()}` } } },
        };
  const paths =
    provider === 'paystack'
      ? [['event'], ['data', 'reference'], ['data', 'amount'], ['data', 'currency'], ['data', 'status'], ['data', 'id'], ['data', 'metadata', 'note'], ['data', 'customer', 'email'], ['data'], ['extra']]
      : [['id'], ['type'], ['data', 'object', 'metadata', 'reference'], ['data', 'object', 'amount'], ['data', 'object', 'currency'], ['data', 'object', 'status'], ['data', 'object', 'metadata', 'note'], ['data', 'object', 'billing_details', 'name'], ['data', 'object'], ['extra']];
  const types = provider === 'paystack' ? ['charge.success', 'refund.processed', 'refund.failed', 'transfer.success'] : ['payment_intent.succeeded', 'payment_intent.payment_failed', 'charge.refunded', 'refund.updated', 'customer.created'];
  return fc
    .record({ type: fc.constantFrom(...types), poisons: fc.array(fc.tuple(fc.constantFrom(...paths), hostileEventValue), { minLength: 1, maxLength: 3 }) })
    .map(({ type, poisons }) => {
      const event = base();
      setOwn(event, provider === 'paystack' ? 'event' : 'type', type);
      for (const [path, value] of poisons) setPath(event, path, value);
      return { text: toJson(event), what: `${provider} ${type}: ${poisons.map(([p]) => p.join('.')).join(', ')}`, provider };
    });
}

function signed(provider: string, text: string): Record<string, string> {
  return provider === 'paystack'
    ? { 'content-type': 'application/json', 'x-paystack-signature': signPaystack(text, PAYSTACK_SECRET) }
    : { 'content-type': 'application/json', 'stripe-signature': signStripe(text, STRIPE_WEBHOOK_SECRET, Math.floor(Date.now() / 1000)) };
}

// ---------------------------------------------------------------------------------------------------

const jsonBodyOf = (op: Operation): JsonSchema | undefined => op.op.requestBody?.content['application/json']?.schema;
const queryParamsOf = (op: Operation): string[] => (op.op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
/** The object schema of a body (an optional empty body is documented as anyOf [object, null]). */
const objectSchema = (schema: JsonSchema): JsonSchema => schema.anyOf?.find((s) => s.type === 'object') ?? schema;

describe('bad-input sweep: hostile bodies and queries on every route get a 4xx, never a 5xx, and write nothing', () => {
  let ctx: TestContext;
  let close: () => Promise<void>;
  let world: World;
  let swept: Operation[];
  let tables: string[];

  beforeAll(async () => {
    ({ ctx, close } = await worldContext());
    const operations = await servedOperations(ctx);
    swept = operations.filter((op) => jsonBodyOf(op) !== undefined || queryParamsOf(op).length > 0 || op.key === WEBHOOK);
    world = await World.create(ctx);
    // Every object the sweep points at exists before the first fingerprint.
    await Promise.all([world.bankAccount(), world.cartItem(), world.notification(), world.profilelessVendor()]);
    await world.pendingPayment();
    await world.paidPayment();
    tables = await applicationTables(ctx.db);
  });
  afterAll(async () => {
    await close();
  });

  it('has a caller for every served operation that takes a JSON body or a query, and no other', () => {
    const keys = swept.map((o) => o.key);
    expect(keys, 'the webhook is served').toContain(WEBHOOK);
    expect(keys.filter((k) => !SWEEP[k]), 'operations with a body or query but no SWEEP entry').toEqual([]);
    expect(Object.keys(SWEEP).filter((k) => !keys.includes(k)), 'SWEEP entries for operations without a JSON body or query').toEqual([]);
  });

  it('sees a write when there is one (the fingerprint is not blind)', async () => {
    const before = await fingerprint(ctx.db, tables);
    const res = await ctx.request({ method: 'PATCH', url: `/api/v1/users/${world.members.otherCustomer.id}/`, payload: { full_name: 'Seen' }, as: world.members.admin });
    expect(res.statusCode).toBe(200);
    expect(changedTables(before, await fingerprint(ctx.db, tables))).toEqual(['users']);
  });

  it('refuses every generated input with a 4xx problem+json (reads: never a 5xx) and writes nothing', async () => {
    const started = Date.now();
    let inputs = 0;
    let fiveHundreds = 0;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (const [index, op] of swept.entries()) {
      const target = SWEEP[op.key]!;
      const user = world.user(target.caller);
      const webhook = op.key === WEBHOOK;
      const url = webhook ? op.path : fillPath(op.path, target.params ? await target.params(world) : {});
      const schema = jsonBodyOf(op);
      const send = async (input: { text: string; provider?: string }): Promise<LightMyRequestResponse> =>
        webhook
          ? ctx.request({ method: 'POST', url: fillPath(op.path, { provider: input.provider! }), headers: signed(input.provider!, input.text), payload: input.text })
          : schema
            ? ctx.request({ method: op.method as 'POST', url, headers: { 'content-type': 'application/json' }, payload: input.text, ...(user ? { as: user } : {}) })
            : ctx.request({ method: 'GET', url: `${url}?${input.text}`, ...(user ? { as: user } : {}) });
      const arbitrary: fc.Arbitrary<{ text: string; what: string; provider?: string }> = webhook
        ? fc.oneof(webhookEvent('paystack'), webhookEvent('stripe'))
        : schema
          ? refusedBody(objectSchema(schema), target.base ? await target.base(world) : {}, op.op.requestBody?.required !== true)
          : queryOf(queryParamsOf(op));
      let before = await fingerprint(ctx.db, tables);
      let opFailures = 0;
      await fc.assert(
        fc.asyncProperty(arbitrary, async (input) => {
          const res = await send(input);
          const after = await fingerprint(ctx.db, tables);
          const changed = changedTables(before, after);
          before = after;
          inputs += 1;
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const problems: string[] = [];
          if (res.statusCode >= 500) {
            fiveHundreds += 1;
            problems.push(`${res.statusCode}`);
          }
          if (schema && (res.statusCode < 400 || res.statusCode >= 500)) problems.push(`not refused: ${res.statusCode}`);
          if (res.statusCode >= 400 && !String(res.headers['content-type']).startsWith('application/problem+json')) problems.push(`${res.statusCode} as ${res.headers['content-type']}`);
          // A webhook answered 200 records the event (and nothing else: every reference is unknown).
          const allowed = webhook && res.statusCode < 300 ? ['webhook_events'] : [];
          const written = changed.filter((t) => !allowed.includes(t));
          if (written.length) problems.push(`wrote to ${written.join(', ')}`);
          if (problems.length && opFailures++ < 3) {
            failures.push(`${op.key} [${input.what}] ${input.text.slice(0, 300)} → ${problems.join('; ')}: ${res.body.slice(0, 200)}`);
          }
          // Keep going (every input is counted and the first few failures of each route are listed).
          return true;
        }),
        { seed: SEED + index, numRuns: RUNS },
      );
    }
    const counts = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`bad-input sweep: ${swept.length} operations, ${inputs} inputs, ${fiveHundreds} 5xx (statuses ${counts}; ${Date.now() - started} ms)`);
    expect(failures).toEqual([]);
    expect(inputs).toBe(swept.length * RUNS);
  });
});
