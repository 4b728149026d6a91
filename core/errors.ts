/**
 * Domain errors: every business outcome that is not a success, as tagged plain data.
 * Core functions return them (never throw them); the shell maps `type` to HTTP through `problemTable`.
 */

export interface StockShortfall {
  product_id: string;
  requested: number;
  available: number;
}

export interface FieldProblem {
  path: string;
  message: string;
}

export type DomainError =
  | { type: 'validation_failed'; detail?: string; errors: FieldProblem[] }
  | { type: 'malformed_json'; detail?: string }
  | { type: 'unsupported_media_type'; detail?: string }
  | { type: 'unauthenticated'; detail?: string }
  | { type: 'invalid_credentials'; detail?: string }
  | { type: 'invalid_refresh_token'; detail?: string }
  | { type: 'forbidden'; detail?: string }
  | { type: 'not_found'; detail?: string }
  | { type: 'email_taken'; detail?: string }
  | { type: 'vendor_exists'; detail?: string }
  | { type: 'bank_account_exists'; detail?: string }
  | { type: 'slug_taken'; detail?: string }
  | { type: 'category_in_use'; detail?: string }
  | { type: 'image_limit_reached'; detail?: string }
  | { type: 'insufficient_stock'; detail?: string; items: StockShortfall[] }
  | { type: 'product_unavailable'; detail?: string; product_id?: string }
  | { type: 'cart_frozen'; detail?: string }
  | { type: 'cart_empty'; detail?: string }
  | { type: 'checkout_incomplete'; detail?: string }
  | { type: 'checkout_not_open'; detail?: string }
  | { type: 'checkout_not_confirmed'; detail?: string }
  | { type: 'checkout_expired'; detail?: string }
  | { type: 'order_not_payable'; detail?: string }
  | { type: 'order_not_cancellable'; detail?: string }
  | { type: 'order_not_due'; detail?: string }
  | { type: 'payment_not_pending'; detail?: string }
  | { type: 'payment_failed'; detail?: string }
  | { type: 'payment_not_refundable'; detail?: string }
  | { type: 'provider_error'; detail?: string }
  | { type: 'idempotency_request_in_flight'; detail?: string }
  | { type: 'idempotency_key_reused'; detail?: string }
  | { type: 'rate_limited'; detail?: string }
  | { type: 'busy'; detail?: string; retryAfterSeconds?: number };

export type DomainErrorType = DomainError['type'];

export type Result<T, E extends DomainError = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <E extends DomainError>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** Codes only the HTTP edge answers (the framework, the router, the connection); no core or service returns them. */
type HttpOnlyCode = 'payload_too_large' | 'internal_error' | 'bad_request' | 'method_not_allowed' | 'request_timeout' | 'uri_too_long' | 'headers_too_large';

/** The one table from domain error to HTTP status and title. The shell never invents codes. */
export const problemTable: Record<DomainErrorType | HttpOnlyCode, { status: number; title: string }> = {
  validation_failed: { status: 400, title: 'Validation failed' },
  malformed_json: { status: 400, title: 'Malformed JSON' },
  bad_request: { status: 400, title: 'Bad request' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'Request timeout' },
  uri_too_long: { status: 414, title: 'URI too long' },
  headers_too_large: { status: 431, title: 'Request header fields too large' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_credentials: { status: 401, title: 'Invalid credentials' },
  invalid_refresh_token: { status: 401, title: 'Invalid refresh token' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  email_taken: { status: 409, title: 'Email already registered' },
  vendor_exists: { status: 409, title: 'Vendor profile already exists' },
  bank_account_exists: { status: 409, title: 'Bank account already exists' },
  slug_taken: { status: 409, title: 'Slug already taken' },
  category_in_use: { status: 409, title: 'Category in use' },
  image_limit_reached: { status: 409, title: 'Image limit reached' },
  insufficient_stock: { status: 409, title: 'Insufficient stock' },
  product_unavailable: { status: 409, title: 'Product unavailable' },
  cart_frozen: { status: 409, title: 'Cart is frozen' },
  cart_empty: { status: 409, title: 'Cart is empty' },
  checkout_incomplete: { status: 409, title: 'Checkout incomplete' },
  checkout_not_open: { status: 409, title: 'Checkout not open' },
  checkout_not_confirmed: { status: 409, title: 'Checkout not confirmed' },
  checkout_expired: { status: 409, title: 'Checkout expired' },
  order_not_payable: { status: 409, title: 'Order not payable' },
  order_not_cancellable: { status: 409, title: 'Order not cancellable' },
  order_not_due: { status: 409, title: 'Order not yet due' },
  payment_not_pending: { status: 409, title: 'Payment not pending' },
  payment_failed: { status: 402, title: 'Payment failed' },
  payment_not_refundable: { status: 409, title: 'Payment not refundable' },
  provider_error: { status: 502, title: 'Payment provider error' },
  idempotency_request_in_flight: { status: 409, title: 'Request with this Idempotency-Key in flight' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key reused with a different request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  busy: { status: 503, title: 'Service busy' },
  internal_error: { status: 500, title: 'Internal server error' },
};

export type ProblemCode = keyof typeof problemTable;

/** The RFC 9457 body of a problem: what a client is answered and what an idempotent replay stores. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  errors?: FieldProblem[];
  [extra: string]: unknown;
}

export function problemDetails(code: ProblemCode, detail?: string, extra: Record<string, unknown> = {}): ProblemDetails {
  const { status, title } = problemTable[code];
  return { type: `https://nexus-commerce.dev/problems/${code}`, title, status, detail: detail ?? title, code, ...extra };
}

/** The problem body of a domain error: `type` becomes `code`; extra fields (items, errors) travel along. */
export function problemOf(error: DomainError): ProblemDetails {
  const { type, detail, ...extra } = error as DomainError & { retryAfterSeconds?: number };
  delete extra.retryAfterSeconds;
  return problemDetails(type, detail, extra);
}

/**
 * A domain error thrown below the routes (services, repos, transactions, jobs): one error plugin in
 * shell/http maps it to problem+json, and a job or script reads `error` as plain data.
 */
export class DomainFailure extends Error {
  constructor(readonly error: DomainError) {
    super(error.detail ?? problemTable[error.type].title);
    this.name = 'DomainFailure';
  }

  get status(): number {
    return problemTable[this.error.type].status;
  }
}

/** Throws `error` as a DomainFailure: `throw failure({ type: 'not_found', detail: 'No such order' })`. */
export const failure = (error: DomainError): DomainFailure => new DomainFailure(error);

/** A core Result's value, or its error thrown as a DomainFailure. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new DomainFailure(result.error);
}
