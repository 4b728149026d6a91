import { z } from 'zod';

/** Scalar pieces the response shapes share, so the OpenAPI document and the validation come from one place. */

export const uuid = z.uuid();
export const timestamp = z.string().meta({ format: 'date-time', example: '2026-11-25T12:00:00.000Z' });
export const money = z.number().int().meta({ description: 'Integer amount in minor units (cents, kobo)' });
export const currency = z.string().meta({ example: 'USD', description: 'ISO 4217 code' });

/*
 * Request pieces: every text field of a body, query or path is built from these, so hostile input is
 * refused at its field (400 validation_failed) before it reaches a service or PostgreSQL.
 */

// PostgreSQL cannot store U+0000 in text, and a lone surrogate is not encodable as UTF-8.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const storable = (value: string) => !value.includes('\u0000') && !LONE_SURROGATE.test(value);

/**
 * Where in a parsed JSON value (a key or a string) there is text PostgreSQL cannot store, as a dotted
 * path ('' for the root), or null: for bodies not validated by a schema (provider webhooks).
 */
export function unstorableTextPath(value: unknown, path = ''): string | null {
  const at = (key: string | number) => (path ? `${path}.${key}` : String(key));
  if (typeof value === 'string') return storable(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableTextPath(value[i], at(i));
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (!storable(key)) return at(key);
      const found = unstorableTextPath(child, at(key));
      if (found !== null) return found;
    }
  }
  return null;
}

/** A request string refusing U+0000 and lone surrogates; chain trim/min/max/regex as on z.string(). */
export const text = () => z.string().refine(storable, { message: 'must not contain U+0000 or unpaired surrogates', abort: true });

/** An e-mail address in a request: surrounding spaces dropped, then checked. */
export const emailText = (max = 254) => text().trim().pipe(z.email().max(max)).meta({ format: 'email', maxLength: max });

/** A UUID in a request (path, body or query): any letter case accepted, lower-cased before use, as ids are stored. */
export const uuidInput = () => z.uuid().toLowerCase();

/**
 * A non-negative integer in a query string, written in decimal digits only (no 1e1, 0x10, " 5" or "+5").
 * The document shows it as the string it is on the wire, with its bounds in the description.
 */
export const queryInt = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be an integer in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
