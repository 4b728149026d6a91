import type { Config } from '../config.js';

/** The payment providers, behind one interface. (Built with the payments issue.) */
export interface PaymentProvider {
  readonly name: 'fake' | 'paystack' | 'stripe';
}

export type PaymentProviders = Partial<Record<PaymentProvider['name'], PaymentProvider>> & { default: PaymentProvider['name'] };

export function createPaymentProviders(config: Config): PaymentProviders {
  return { default: config.PAYMENT_PROVIDER };
}
