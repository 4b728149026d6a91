import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentProviders } from '../../shell/adapters.js';
import { loadConfig } from '../../shell/config.js';
import { createFakeProvider } from '../../shell/payments/fake.js';
import { createTestContext, type TestContext } from '../support/harness.js';
import { insertOrder, paymentsOf } from '../support/payment-fixtures.js';

/**
 * The fake provider approves payments without money moving. It is enabled only when the server runs with
 * PAYMENT_PROVIDER=fake; beside a real provider it is not selectable, whatever NODE_ENV says. (Before:
 * every non-production server enabled it, so a staging server on Stripe let any customer pay with fake.)
 */
describe('which payment providers a configuration enables', () => {
  const real = { STRIPE_SECRET_KEY: 'sk_test_x', PAYSTACK_SECRET_KEY: 'sk_test_y' };

  it('enables fake only when it is PAYMENT_PROVIDER', () => {
    for (const NODE_ENV of ['development', 'test'] as const) {
      expect(Object.keys(createPaymentProviders(loadConfig({ NODE_ENV, PAYMENT_PROVIDER: 'stripe', ...real }))).sort()).toEqual(['default', 'paystack', 'stripe']);
      expect(Object.keys(createPaymentProviders(loadConfig({ NODE_ENV, PAYMENT_PROVIDER: 'paystack', ...real }))).sort()).toEqual(['default', 'paystack', 'stripe']);
      expect(Object.keys(createPaymentProviders(loadConfig({ NODE_ENV, PAYMENT_PROVIDER: 'fake' }))).sort()).toEqual(['default', 'fake']);
      // Unset means fake (outside production), so development needs no keys.
      expect(createPaymentProviders(loadConfig({ NODE_ENV })).fake).toBeDefined();
    }
  });

  it('never enables fake in production (configuration refuses it as the default)', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x@localhost/x', JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') };
    expect(createPaymentProviders(loadConfig({ ...production, PAYMENT_PROVIDER: 'stripe', ...real })).fake).toBeUndefined();
    expect(() => loadConfig({ ...production, PAYMENT_PROVIDER: 'fake' })).toThrow(/PAYMENT_PROVIDER/);
  });
});

describe('initiating a payment with fake on a server whose provider is real', () => {
  let t: TestContext;

  beforeAll(async () => {
    // A fake adapter injected anyway: the service still refuses it, as it does in production.
    t = await createTestContext({
      env: { NODE_ENV: 'development', PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_BASE_URL: 'http://127.0.0.1:9' },
      deps: { payments: { default: 'stripe', fake: createFakeProvider() } },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 400 validation_failed at provider and creates no payment', async () => {
    const customer = await t.user('customer');
    const order = await insertOrder(t.db, customer.id);
    const res = await t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id, provider: 'fake' }, as: customer });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'provider' }] });
    expect(await paymentsOf(t.db, order.id)).toHaveLength(0);
  });
});
