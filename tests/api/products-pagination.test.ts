import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../../shell/pagination.js';
import type { Product } from '../../shell/shapes/products.js';
import { createTestContext, type TestContext } from '../support/harness.js';
import { category, insertProduct, vendorWithProfile, type VendorFixture } from './product-fixtures.js';

const ORDERINGS = ['-created_at', 'created_at', 'price', '-price', 'name'] as const;
const INITIAL = 61;
const LIMIT = 7;

describe('GET /products/: keyset pages stay correct while products are inserted', () => {
  let ctx: TestContext;
  let vendor: VendorFixture;
  let cat: { id: string; slug: string };
  const initial = new Set<string>();

  beforeAll(async () => {
    ctx = await createTestContext();
    vendor = await vendorWithProfile(ctx);
    cat = await category(ctx);
    const base = Date.UTC(2025, 5, 1);
    for (let i = 0; i < INITIAL; i++) {
      // Ties on every sort column (three rows per second, seven prices, ten names): only the id separates them.
      const id = await insertProduct(ctx, vendor.vendorId, cat.id, {
        name: `Item ${i % 10}`,
        unit_price: 100 * ((i % 7) + 1),
        created_at: new Date(base + Math.floor(i / 3) * 1000),
      });
      initial.add(id);
    }
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const fetchPage = async (url: string): Promise<Page<Product>> => {
    const { pathname, search } = new URL(url, 'http://localhost');
    const res = await ctx.request({ method: 'GET', url: `${pathname}${search}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Page<Product>>();
  };

  /** Follows `next` (or `previous`) links to the end, returning every page. */
  const walk = async (start: string, link: 'next' | 'previous'): Promise<Page<Product>[]> => {
    const pages: Page<Product>[] = [];
    let url: string | null = start;
    while (url !== null) {
      const page = await fetchPage(url);
      pages.push(page);
      url = page[link];
      expect(pages.length).toBeLessThan(100);
    }
    return pages;
  };

  /** Inserts products through the API until told to stop, with prices, names and times among the existing ones. */
  const insertWhile = (running: () => boolean) =>
    (async () => {
      const created: string[] = [];
      for (let i = 0; running() && i < 200; i++) {
        const res = await ctx.request({
          method: 'POST',
          url: '/api/v1/products/',
          payload: { name: `Item ${i % 10}`, unit_price: 100 * ((i % 7) + 1), stock: 1, category_id: cat.id },
          as: vendor.user,
        });
        expect(res.statusCode).toBe(201);
        created.push(res.json<Product>().id);
        await new Promise((r) => setImmediate(r));
      }
      return created;
    })();

  const assertEveryInitialRowOnce = (ids: string[]) => {
    expect(new Set(ids).size, 'no duplicates').toBe(ids.length);
    const seen = new Set(ids);
    const missing = [...initial].filter((id) => !seen.has(id));
    expect(missing, 'no gaps').toEqual([]);
  };

  const sortKey = (ordering: (typeof ORDERINGS)[number], p: Product): [string | number, string] => {
    if (ordering === 'price' || ordering === '-price') return [p.unit_price, p.id];
    if (ordering === 'name') return [p.name, p.id];
    return [p.created_at, p.id];
  };

  const assertOrdered = (ordering: (typeof ORDERINGS)[number], rows: Product[]) => {
    const descending = ordering.startsWith('-');
    for (let i = 1; i < rows.length; i++) {
      const [a1, a2] = sortKey(ordering, rows[i - 1]!);
      const [b1, b2] = sortKey(ordering, rows[i]!);
      const cmp = a1 < b1 ? -1 : a1 > b1 ? 1 : a2 < b2 ? -1 : a2 > b2 ? 1 : 0;
      expect(descending ? cmp > 0 : cmp < 0, `${ordering} at ${i}`).toBe(true);
    }
  };

  it.each(ORDERINGS)('walks every page forward by %s with no duplicates or gaps while products are inserted', async (ordering) => {
    let walking = true;
    const inserting = insertWhile(() => walking);
    const pages = await walk(`/api/v1/products/?ordering=${ordering}&limit=${LIMIT}`, 'next').finally(() => {
      walking = false;
    });
    const created = await inserting;
    expect(created.length).toBeGreaterThan(0);

    const rows = pages.flatMap((p) => p.results);
    assertEveryInitialRowOnce(rows.map((r) => r.id));
    assertOrdered(ordering, rows);
    expect(pages[0]!.previous).toBeNull();
    expect(pages.at(-1)!.next).toBeNull();
    for (const page of pages.slice(0, -1)) expect(page.results).toHaveLength(LIMIT);
  });

  it.each(ORDERINGS)('walks every page backward by %s with previous links, no duplicates or gaps while products are inserted', async (ordering) => {
    const forward = await walk(`/api/v1/products/?ordering=${ordering}&limit=${LIMIT}`, 'next');
    const last = forward.at(-1)!;
    // Start from the previous link of the last page and walk to the front.
    expect(last.previous).not.toBeNull();

    let walking = true;
    const inserting = insertWhile(() => walking);
    const backward = await walk(last.previous!, 'previous').finally(() => {
      walking = false;
    });
    await inserting;

    const rows = [...backward].reverse().flatMap((p) => p.results).concat(last.results);
    assertEveryInitialRowOnce(rows.map((r) => r.id));
    assertOrdered(ordering, rows);
    // Pages are aligned on the boundary walked from, so only the front page may be short.
    for (const page of backward.slice(0, -1)) expect(page.results).toHaveLength(LIMIT);
    expect(backward.at(-1)!.previous).toBeNull();
  });

  it('walks back to exactly the pages it walked forward when nothing changes', async () => {
    const forward = await walk(`/api/v1/products/?ordering=price&limit=${LIMIT}`, 'next');
    const backward = await walk(forward.at(-1)!.previous!, 'previous');
    expect([...backward].reverse().map((p) => p.results.map((r) => r.id))).toEqual(forward.slice(0, -1).map((p) => p.results.map((r) => r.id)));
    expect(forward[1]!.previous).not.toBeNull();
    const back = await fetchPage(forward[1]!.previous!);
    expect(back.results.map((r) => r.id)).toEqual(forward[0]!.results.map((r) => r.id));
    expect(back.previous).toBeNull();
  });

  it('builds absolute next and previous links that keep the filters', async () => {
    const first = await fetchPage(`/api/v1/products/?ordering=name&limit=${LIMIT}&category=${cat.slug}`);
    const next = new URL(first.next!);
    expect(next.protocol).toMatch(/^https?:$/);
    expect(next.pathname).toBe('/api/v1/products/');
    expect(next.searchParams.get('category')).toBe(cat.slug);
    expect(next.searchParams.get('ordering')).toBe('name');
    expect(next.searchParams.get('cursor')).toBeTruthy();
  });
});
