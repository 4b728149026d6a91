import type { Config } from './config.js';
import { cloudinaryMediaStore } from './media/cloudinary.js';
import { localMediaStore } from './media/local.js';
import type { MediaStore } from './media/store.js';
import { createFakeProvider } from './payments/fake.js';
import { createPaystackProvider } from './payments/paystack.js';
import { createStripeProvider } from './payments/stripe.js';
import type { PaymentProviders } from './payments/provider.js';

/**
 * The one place that picks implementations from configuration: which payment adapters and which media
 * store. The interfaces (payments/provider.ts, media/store.ts) know none of them, so nothing imports in a
 * circle; the app, the worker and scripts call these where they are built.
 */

/**
 * The providers this configuration enables: `fake` only when it is PAYMENT_PROVIDER (never beside a
 * real default, in any NODE_ENV; config refuses it in production), `paystack` and `stripe` when their
 * secret keys are set. `default` is PAYMENT_PROVIDER.
 */
export function createPaymentProviders(config: Config): PaymentProviders {
  const providers: PaymentProviders = { default: config.PAYMENT_PROVIDER };
  if (fakePaymentsAllowed(config)) providers.fake = createFakeProvider();
  if (config.PAYSTACK_SECRET_KEY) {
    providers.paystack = createPaystackProvider({ baseUrl: config.PAYSTACK_BASE_URL, secretKey: config.PAYSTACK_SECRET_KEY, timeoutMs: config.PAYMENT_TIMEOUT_MS });
  }
  if (config.STRIPE_SECRET_KEY) {
    providers.stripe = createStripeProvider({
      baseUrl: config.STRIPE_BASE_URL,
      secretKey: config.STRIPE_SECRET_KEY,
      webhookSecret: config.STRIPE_WEBHOOK_SECRET ?? null,
      timeoutMs: config.PAYMENT_TIMEOUT_MS,
    });
  }
  return providers;
}

/**
 * The fake provider approves payments without money moving: selectable only when the server was started
 * with PAYMENT_PROVIDER=fake (development and tests), and never in production.
 */
export const fakePaymentsAllowed = (config: Pick<Config, 'PAYMENT_PROVIDER' | 'NODE_ENV'>): boolean =>
  config.PAYMENT_PROVIDER === 'fake' && config.NODE_ENV !== 'production';

/** Cloudinary when CLOUDINARY_URL is set, else files under DATA_DIR served by the API. */
export function createMediaStore(config: Config): MediaStore {
  if (config.CLOUDINARY_URL) return cloudinaryMediaStore({ url: config.CLOUDINARY_URL, uploadPrefix: config.CLOUDINARY_UPLOAD_PREFIX });
  return localMediaStore(config.DATA_DIR);
}
