import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql, type SelectQueryBuilder } from 'kysely';
import { failure, type DomainFailure } from '../core/errors.js';

/**
 * Cursor (keyset) pagination for every list.
 *
 * A cursor is opaque to clients: base64url JSON of the sort-key values of the row it points past, the
 * direction and the list's ordering, followed by an HMAC so a cursor the server did not issue is refused
 * (400 validation_failed). Keyset pages stay correct while rows are inserted: no duplicates, no gaps.
 */

export interface Page<T> {
  results: T[];
  next: string | null;
  previous: string | null;
}

type KeyValue = string | number | boolean | null;

interface CursorPayload {
  /** sort-key values of the boundary row */
  k: KeyValue[];
  /** 'n': rows after the boundary, 'p': rows before it */
  d: 'n' | 'p';
  /** the ordering the cursor was issued for */
  o: string;
}

/** What signs cursors: a server secret, so a cursor the server did not issue is refused. */
export interface Paginator {
  secret: string;
}

/**
 * How a list is asked for: the page size, the cursor, and the absolute URL of the list as it was
 * requested (the route builds it from PUBLIC_URL or a validated Host); page links replace its cursor.
 */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
  url: string;
}

function sign(secret: string, data: string): string {
  return createHmac('sha256', secret).update(`cursor:${data}`).digest('base64url').slice(0, 22);
}

export function encodeCursor(secret: string, payload: CursorPayload): string {
  const data = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${data}.${sign(secret, data)}`;
}

function invalidCursor(): DomainFailure {
  return failure({
    type: 'validation_failed',
    detail: 'The cursor is not one this server issued for this list',
    errors: [{ path: 'query.cursor', message: 'Invalid cursor' }],
  });
}

export function decodeCursor(secret: string, raw: string, ordering: string): CursorPayload {
  const [data, mac] = raw.split('.');
  if (!data || !mac) throw invalidCursor();
  const expected = Buffer.from(sign(secret, data));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalidCursor();
  let payload: CursorPayload;
  try {
    payload = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as CursorPayload;
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(payload.k) || (payload.d !== 'n' && payload.d !== 'p') || payload.o !== ordering) throw invalidCursor();
  return payload;
}

export interface KeysetOptions<Row> {
  /** Sort columns as SQL references, most significant first; the last must be unique (the id). */
  columns: string[];
  direction: 'asc' | 'desc';
  /** The values of `columns` for a row, in the same order (dates as ISO strings). */
  keyOf: (row: Row) => KeyValue[];
  /** Names this ordering, so a cursor from one ordering cannot be replayed on another. */
  ordering: string;
  limit: number;
  cursor: string | undefined;
}

/** The options of a list ordered oldest first by (created_at, id). */
export function oldestFirst(ordering: string, page: { limit: number; cursor?: string | undefined }): KeysetOptions<{ created_at: Date; id: string }> {
  return {
    columns: ['created_at', 'id'],
    direction: 'asc',
    keyOf: (row) => [row.created_at.toISOString(), row.id],
    ordering,
    limit: page.limit,
    cursor: page.cursor,
  };
}

/**
 * Runs a keyset-paginated query. `query` must select everything but ordering and limit.
 * Returns the page's rows and the cursors of its neighbours (null when there is none).
 */
export async function keysetPage<DB, TB extends keyof DB, Row>(
  paginator: Paginator,
  query: SelectQueryBuilder<DB, TB, Row>,
  options: KeysetOptions<Row>,
): Promise<{ rows: Row[]; nextCursor: string | null; previousCursor: string | null }> {
  const { columns, direction, ordering, limit } = options;
  const cursor = options.cursor ? decodeCursor(paginator.secret, options.cursor, ordering) : null;
  if (cursor && cursor.k.length !== columns.length) throw invalidCursor();

  const backwards = cursor?.d === 'p';
  // Walking backwards reads the reverse order, then flips the page.
  const ascending = (direction === 'asc') !== backwards;
  const columnList = sql.join(columns.map((c) => sql.ref(c)));
  let q = query;
  if (cursor) {
    const values = sql.join(cursor.k.map((v) => sql`${v}`));
    q = q.where(ascending ? sql<boolean>`(${columnList}) > (${values})` : sql<boolean>`(${columnList}) < (${values})`);
  }
  for (const c of columns) q = q.orderBy(sql.ref(c), ascending ? 'asc' : 'desc');
  const fetched = await q.limit(limit + 1).execute();
  const more = fetched.length > limit;
  const rows = fetched.slice(0, limit);
  if (backwards) rows.reverse();

  const first = rows[0];
  const last = rows[rows.length - 1];
  const issue = (row: Row | undefined, d: 'n' | 'p') =>
    row === undefined ? null : encodeCursor(paginator.secret, { k: options.keyOf(row), d, o: ordering });
  // Forward: a next page exists if we fetched more; a previous one if we came from a cursor.
  // Backward: the mirror image.
  const hasNext = backwards ? true : more;
  const hasPrevious = backwards ? more : cursor !== null;
  return {
    rows,
    nextCursor: hasNext ? issue(last, 'n') : null,
    previousCursor: hasPrevious ? issue(first, 'p') : null,
  };
}

/** The list's URL with its cursor replaced, or null when there is no such page. */
export function pageUrl(listUrl: string, cursor: string | null): string | null {
  if (cursor === null) return null;
  const url = new URL(listUrl);
  url.searchParams.set('cursor', cursor);
  return url.toString();
}

export function toPage<Row, T>(
  listUrl: string,
  page: { rows: Row[]; nextCursor: string | null; previousCursor: string | null },
  view: (row: Row) => T,
): Page<T> {
  return {
    results: page.rows.map(view),
    next: pageUrl(listUrl, page.nextCursor),
    previous: pageUrl(listUrl, page.previousCursor),
  };
}
