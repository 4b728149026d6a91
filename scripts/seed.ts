import { createHash } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { sql } from 'kysely';
import type { DB } from '../db/database.js';
import { ConfigError, loadDatabaseConfig } from '../shell/config.js';
import { migrateToLatest, openDatabase, pendingMigrations } from '../shell/db.js';
import { runCommand } from './run-command.js';

/**
 * Loads a demo catalog: an admin, a customer, vendors with profiles, categories and a few hundred
 * products. Idempotent: every row has a fixed email, slug or id derived from a fixed name, and inserts
 * skip rows that exist, so running it twice changes nothing.
 *
 *   npm run seed                          demo data
 *   npm run seed -- --products 100000     demo data plus 100,000 generated products, for benchmarks
 *
 * The embedded database is migrated first; on DATABASE_URL pending migrations are refused (run
 * `npm run migrate` deliberately). With NODE_ENV=production it refuses to run unless given --force:
 * the demo users, an admin among them, share a published password.
 */

const USAGE = `usage: npm run seed [-- --products <n>] [--force]
       node dist/scripts/seed.js [--products <n>] [--force]     (compiled, as in the Docker image)

Loads a demo catalog (an admin, a customer, 6 vendors, 10 categories, 300 products); idempotent.
  --products <n>   also generate n products (up to 10,000,000), for benchmarks
  --force          run even with NODE_ENV=production (the demo users, an admin among them, have a
                   published password: never on a database real customers use)

Environment: DATABASE_URL (else the embedded database under DATA_DIR), NODE_ENV; nothing else is read.`;

const DEMO_PASSWORD = 'nexus-demo-password';
const ADMIN = { email: 'admin@nexus.test', full_name: 'Ada Admin', role: 'admin' as const };
const CUSTOMER = { email: 'customer@nexus.test', full_name: 'Casey Customer', role: 'customer' as const };
const VENDORS = [
  { email: 'ironworks@nexus.test', full_name: 'Ike Iron', business: 'Ironworks Kitchen Co.' },
  { email: 'lumen@nexus.test', full_name: 'Lena Lumen', business: 'Lumen Lighting' },
  { email: 'trailhead@nexus.test', full_name: 'Theo Trail', business: 'Trailhead Outfitters' },
  { email: 'paperleaf@nexus.test', full_name: 'Pia Paper', business: 'Paperleaf Stationery' },
  { email: 'soundwave@nexus.test', full_name: 'Sam Sound', business: 'Soundwave Audio' },
  { email: 'greenthumb@nexus.test', full_name: 'Gwen Green', business: 'Greenthumb Garden Supply' },
];
const CATEGORIES = [
  { slug: 'kitchen', name: 'Kitchen', nouns: ['Skillet', 'Saucepan', 'Chef Knife', 'Cutting Board', 'Kettle', 'Colander'] },
  { slug: 'lighting', name: 'Lighting', nouns: ['Desk Lamp', 'Floor Lamp', 'Pendant Light', 'LED Strip', 'Lantern', 'Bulb Pack'] },
  { slug: 'outdoor', name: 'Outdoor', nouns: ['Tent', 'Sleeping Bag', 'Hiking Pole', 'Camp Stove', 'Backpack', 'Water Filter'] },
  { slug: 'stationery', name: 'Stationery', nouns: ['Notebook', 'Fountain Pen', 'Planner', 'Sketchbook', 'Pencil Set', 'Desk Organizer'] },
  { slug: 'audio', name: 'Audio', nouns: ['Headphones', 'Speaker', 'Turntable', 'Earbuds', 'Microphone', 'Amplifier'] },
  { slug: 'garden', name: 'Garden', nouns: ['Trowel', 'Watering Can', 'Pruning Shears', 'Planter', 'Hose Reel', 'Seed Kit'] },
  { slug: 'home-decor', name: 'Home Decor', nouns: ['Vase', 'Throw Pillow', 'Wall Clock', 'Picture Frame', 'Candle', 'Rug'] },
  { slug: 'fitness', name: 'Fitness', nouns: ['Yoga Mat', 'Kettlebell', 'Jump Rope', 'Foam Roller', 'Resistance Band', 'Dumbbell Set'] },
  { slug: 'toys', name: 'Toys', nouns: ['Puzzle', 'Building Blocks', 'Plush Bear', 'Kite', 'Board Game', 'Yo-yo'] },
  { slug: 'pets', name: 'Pets', nouns: ['Dog Leash', 'Cat Tree', 'Pet Bed', 'Feeding Bowl', 'Chew Toy', 'Grooming Brush'] },
];
const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Rustic', 'Modern', 'Vintage', 'Sturdy', 'Lightweight', 'Premium', 'Everyday', 'Handmade', 'Eco'];
const COLOURS = ['red', 'blue', 'green', 'black', 'white', 'walnut', 'copper', 'slate', 'sand', 'olive'];
const DEMO_PRODUCTS = 300;
const BATCH = 10_000;

/** A fixed UUID for a fixed name, so re-running finds the same rows. */
function seedId(name: string): string {
  const h = createHash('sha256').update(`nexus-seed:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** A small deterministic generator (mulberry32), so the demo catalog is the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseArgs(argv: string[]): { products: number; force: boolean } {
  const force = argv.includes('--force');
  const i = argv.indexOf('--products');
  if (i === -1) return { products: 0, force };
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0 || n > 10_000_000) throw new ConfigError('--products: expected a whole number up to 10,000,000');
  return { products: n, force };
}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function upsertUser(db: DB, user: { email: string; full_name: string; role: 'admin' | 'customer' | 'vendor' }, passwordHash: string, now: Date): Promise<string> {
  await db
    .insertInto('users')
    .values({ id: seedId(`user:${user.email}`), email: user.email, full_name: user.full_name, password_hash: passwordHash, role: user.role, created_at: now, updated_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute();
  // The email may already belong to a user made another way: use whoever holds it.
  const row = await db.selectFrom('users').select('id').where(sql<string>`lower(email)`, '=', user.email.toLowerCase()).executeTakeFirstOrThrow();
  return row.id;
}

async function seedPeople(db: DB, now: Date): Promise<{ vendorIds: string[] }> {
  const passwordHash = await hash(DEMO_PASSWORD);
  await upsertUser(db, ADMIN, passwordHash, now);
  await upsertUser(db, CUSTOMER, passwordHash, now);
  const vendorIds: string[] = [];
  for (const v of VENDORS) {
    const userId = await upsertUser(db, { email: v.email, full_name: v.full_name, role: 'vendor' }, passwordHash, now);
    await db
      .insertInto('vendors')
      .values({ id: seedId(`vendor:${v.email}`), user_id: userId, business_name: v.business, description: `${v.business}: independent seller on Nexus.`, support_email: v.email, created_at: now, updated_at: now })
      .onConflict((oc) => oc.doNothing())
      .execute();
    vendorIds.push((await db.selectFrom('vendors').select('id').where('user_id', '=', userId).executeTakeFirstOrThrow()).id);
  }
  return { vendorIds };
}

async function seedCategories(db: DB, now: Date): Promise<string[]> {
  await db
    .insertInto('categories')
    .values(CATEGORIES.map((c) => ({ id: seedId(`category:${c.slug}`), name: c.name, slug: c.slug, description: `Everything ${c.name.toLowerCase()}.`, created_at: now, updated_at: now })))
    .onConflict((oc) => oc.doNothing())
    .execute();
  const rows = await db.selectFrom('categories').select(['id', 'slug']).where('slug', 'in', CATEGORIES.map((c) => c.slug)).execute();
  const bySlug = new Map(rows.map((r) => [r.slug, r.id]));
  return CATEGORIES.map((c) => bySlug.get(c.slug)!);
}

async function seedDemoProducts(db: DB, vendorIds: string[], categoryIds: string[], now: Date): Promise<void> {
  const random = prng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const rows = Array.from({ length: DEMO_PRODUCTS }, (_, i) => {
    const c = i % CATEGORIES.length;
    const noun = pick(CATEGORIES[c]!.nouns);
    const adjective = pick(ADJECTIVES);
    const colour = pick(COLOURS);
    // Whole milliseconds, like every timestamp the API writes, so keyset cursors round-trip exactly.
    const created = new Date(now.getTime() - (DEMO_PRODUCTS - i) * 60_000);
    return {
      id: seedId(`product:demo:${i}`),
      vendor_id: vendorIds[(c + Math.floor(i / CATEGORIES.length)) % vendorIds.length]!,
      category_id: categoryIds[c]!,
      name: `${adjective} ${noun}`,
      description: `A ${adjective.toLowerCase()} ${noun.toLowerCase()} in ${colour}. Ships in 2-3 days.`,
      unit_price: Math.round((5 + random() * 495) * 100) - 1,
      stock: random() < 0.1 ? 0 : Math.floor(random() * 200),
      is_active: random() > 0.05,
      created_at: created,
      updated_at: created,
    };
  });
  await db.insertInto('products').values(rows).onConflict((oc) => oc.doNothing()).execute();
}

/**
 * Generated products for benchmarks, inserted in batches by one INSERT … SELECT generate_series each.
 * Ids come from md5 of the sequence number (stamped as RFC 4122 version 4), so a re-run inserts nothing new.
 */
async function seedBulkProducts(db: DB, count: number, vendorIds: string[], categoryIds: string[], now: Date): Promise<void> {
  const started = performance.now();
  const adjectives = sql`${sql.val(ADJECTIVES)}::text[]`;
  const nouns = sql`${sql.val(CATEGORIES.flatMap((c) => c.nouns))}::text[]`;
  const colours = sql`${sql.val(COLOURS)}::text[]`;
  const vendors = sql`${sql.val(vendorIds)}::uuid[]`;
  const categories = sql`${sql.val(categoryIds)}::uuid[]`;
  const base = now.toISOString();
  let inserted = 0;
  for (let from = 1; from <= count; from += BATCH) {
    const to = Math.min(count, from + BATCH - 1);
    const result = await sql`
      INSERT INTO products (id, vendor_id, category_id, name, description, unit_price, stock, is_active, deleted_at, created_at, updated_at)
      SELECT overlay(overlay(md5('nexus-bench-product:' || i) placing '4' from 13) placing '8' from 17)::uuid,
             (${vendors})[1 + abs(hashtext('vendor:' || i)) % cardinality(${vendors})],
             (${categories})[1 + abs(hashtext('category:' || i)) % cardinality(${categories})],
             (${adjectives})[1 + abs(hashtext('adjective:' || i)) % cardinality(${adjectives})] || ' ' || (${nouns})[1 + abs(hashtext('noun:' || i)) % cardinality(${nouns})] || ' #' || i,
             'Bench item ' || i || ' in ' || (${colours})[1 + abs(hashtext('colour:' || i)) % cardinality(${colours})] || ', made to last.',
             100 + abs(hashtext('price:' || i)) % 99900,
             CASE WHEN i % 17 = 0 THEN 0 ELSE abs(hashtext('stock:' || i)) % 500 END,
             i % 50 <> 0,
             CASE WHEN i % 97 = 0 THEN ${base}::timestamptz END,
             date_trunc('milliseconds', ${base}::timestamptz - i * interval '1 second' - (i % 1000) * interval '1 millisecond'),
             date_trunc('milliseconds', ${base}::timestamptz - i * interval '1 second')
      FROM generate_series(${from}::int, ${to}::int) AS i
      ON CONFLICT (id) DO NOTHING`.execute(db);
    inserted += Number(result.numAffectedRows ?? 0);
    out(`  products ${to.toLocaleString('en-US')}/${count.toLocaleString('en-US')} (${inserted.toLocaleString('en-US')} new, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  await sql`ANALYZE products`.execute(db);
}

async function main(): Promise<number> {
  const { products, force } = parseArgs(process.argv.slice(2));
  const config = loadDatabaseConfig(process.env);
  if (config.NODE_ENV === 'production' && !force) {
    process.stderr.write(`seed: refusing to run with NODE_ENV=production: it creates demo users, an admin among them, whose password is published (${DEMO_PASSWORD}). Add --force to seed anyway.\n`);
    return 2;
  }
  const database = await openDatabase(config);
  try {
    out(`database: ${database.kind} (${database.location})`);
    if (database.kind === 'embedded') {
      const applied = await migrateToLatest(database.db);
      if (applied.length) out(`applied migrations: ${applied.join(', ')}`);
    } else {
      const pending = await pendingMigrations(database.db);
      if (pending.length) {
        process.stderr.write(`seed: ${pending.length} pending migration(s) (${pending.join(', ')}); run \`npm run migrate\` first\n`);
        return 1;
      }
    }
    // Whole milliseconds: timestamps round-trip through JSON and keyset cursors exactly.
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const { vendorIds } = await seedPeople(database.db, now);
    const categoryIds = await seedCategories(database.db, now);
    await seedDemoProducts(database.db, vendorIds, categoryIds, now);
    out(`demo catalog: ${VENDORS.length} vendors, ${CATEGORIES.length} categories, ${DEMO_PRODUCTS} products`);
    if (products > 0) await seedBulkProducts(database.db, products, vendorIds, categoryIds, now);

    const total = await database.db.selectFrom('products').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out(`products in the database: ${Number(total.n).toLocaleString('en-US')}`);
    out('');
    out('Log in with (password for every demo user):');
    out(`  admin     ${ADMIN.email}`);
    out(`  customer  ${CUSTOMER.email}`);
    for (const v of VENDORS) out(`  vendor    ${v.email}  (${v.business})`);
    out(`  password  ${DEMO_PASSWORD}`);
    return 0;
  } finally {
    await database.close();
  }
}

runCommand('seed', main, USAGE);
