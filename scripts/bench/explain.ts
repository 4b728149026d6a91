import { sql } from 'kysely';
import type { ProductOrdering } from '../../core/product.js';
import { loadConfig } from '../../shell/config.js';
import { openDatabase } from '../../shell/db.js';
import { productOrderingKeys, publicProductsQuery, type PublicProductFilters } from '../../shell/repos/products.js';
import { runCommand } from '../run-command.js';

/**
 * Prints EXPLAIN ANALYZE of the public product list query for each filter and ordering, as the API
 * runs it (same query builder, ORDER BY and LIMIT as keysetPage), against DATABASE_URL (seeded with
 * `npm run seed -- --products 100000`). Flags any sequential scan on products.
 *
 *   DATABASE_URL=postgres://… npx tsx scripts/bench/explain.ts [--full]
 */

interface Case {
  name: string;
  filters: PublicProductFilters;
  ordering: ProductOrdering;
  /** Start after this many rows, as a cursor would. */
  after?: number;
}

async function main(): Promise<number> {
  const full = process.argv.includes('--full');
  const config = loadConfig(process.env);
  const database = await openDatabase(config);
  const db = database.db;
  try {
    const someCategory = await db.selectFrom('categories').select(['id', 'slug']).orderBy('slug').executeTakeFirstOrThrow();
    const someVendor = await db.selectFrom('vendors').select('id').orderBy('id').executeTakeFirstOrThrow();
    const cases: Case[] = [
      { name: 'default (-created_at)', filters: {}, ordering: '-created_at' },
      { name: 'ordering=created_at', filters: {}, ordering: 'created_at' },
      { name: 'ordering=price', filters: {}, ordering: 'price' },
      { name: 'ordering=-price', filters: {}, ordering: '-price' },
      { name: 'ordering=name', filters: {}, ordering: 'name' },
      { name: 'deep page (after 50,000 rows)', filters: {}, ordering: '-created_at', after: 50_000 },
      { name: 'category=<id>', filters: { category: someCategory.id }, ordering: '-created_at' },
      { name: 'category=<slug>', filters: { category: someCategory.slug }, ordering: '-created_at' },
      { name: 'category=<slug>&ordering=price', filters: { category: someCategory.slug }, ordering: 'price' },
      { name: 'vendor=<id>', filters: { vendor: someVendor.id }, ordering: '-created_at' },
      { name: 'vendor=<id>&ordering=name', filters: { vendor: someVendor.id }, ordering: 'name' },
      { name: 'q=walnut (common word)', filters: { q: 'walnut' }, ordering: '-created_at' },
      { name: 'q=item 4242 (rare)', filters: { q: 'item 4242 ' }, ordering: '-created_at' },
      { name: 'q=ke (two characters: no trigram to search)', filters: { q: 'ke' }, ordering: '-created_at' },
      { name: 'q=kettlebell&ordering=price', filters: { q: 'kettlebell' }, ordering: 'price' },
      { name: 'min_price=50000', filters: { min_price: 50_000 }, ordering: '-created_at' },
      { name: 'min_price=1000&max_price=1200', filters: { min_price: 1000, max_price: 1200 }, ordering: '-created_at' },
      { name: 'min_price=1000&max_price=1200&ordering=price', filters: { min_price: 1000, max_price: 1200 }, ordering: 'price' },
      { name: 'in_stock=true', filters: { in_stock: true }, ordering: '-created_at' },
      { name: 'in_stock=true&ordering=price', filters: { in_stock: true }, ordering: 'price' },
      { name: 'everything: category+vendor+q+price+in_stock', filters: { category: someCategory.slug, vendor: someVendor.id, q: 'bench', min_price: 500, max_price: 90_000, in_stock: true }, ordering: '-price' },
    ];

    let seqScans = 0;
    for (const c of cases) {
      const keys = productOrderingKeys[c.ordering];
      let query = publicProductsQuery(db, c.filters);
      if (c.after !== undefined) {
        const boundary = await publicProductsQuery(db, c.filters)
          .orderBy(sql.ref(keys.columns[0]!), keys.direction)
          .orderBy(sql.ref(keys.columns[1]!), keys.direction)
          .offset(c.after)
          .limit(1)
          .executeTakeFirstOrThrow();
        const values = sql.join(keys.keyOf(boundary).map((v) => sql`${v}`));
        const columns = sql.join(keys.columns.map((col) => sql.ref(col)));
        query = query.where(keys.direction === 'asc' ? sql<boolean>`(${columns}) > (${values})` : sql<boolean>`(${columns}) < (${values})`);
      }
      for (const col of keys.columns) query = query.orderBy(sql.ref(col), keys.direction);
      const plan = await query.limit(21).explain(undefined, sql`analyze, buffers`);
      const lines = plan.map((r) => String((r as Record<string, unknown>)['QUERY PLAN']));
      const seq = lines.some((l) => /Seq Scan on products/.test(l));
      if (seq) seqScans++;
      const time = lines.find((l) => l.startsWith('Execution Time'));
      process.stdout.write(`\n## ${c.name}${seq ? '   <-- SEQ SCAN ON PRODUCTS' : ''}   ${time ?? ''}\n`);
      const shown = full ? lines : lines.filter((l) => /Scan|Join|Sort|Limit|InitPlan|SubPlan|Index Cond|Recheck|Filter/.test(l) && !/Rows Removed|Buffers/.test(l));
      for (const l of shown) process.stdout.write(`  ${l}\n`);
    }
    process.stdout.write(`\n${cases.length} cases, ${seqScans} with a sequential scan on products\n`);
    return seqScans === 0 ? 0 : 1;
  } finally {
    await database.close();
  }
}

const USAGE = `usage: DATABASE_URL=postgres://… npx tsx scripts/bench/explain.ts [--full]

Prints EXPLAIN ANALYZE of the public product list query for each filter and ordering, as the API runs
it, and flags any sequential scan on products. Seed the database first (npm run seed -- --products 100000).
  --full   print every plan in full`;

runCommand('explain', main, USAGE);
