import { it } from 'vitest';
import { signPaystack } from '../../shell/payments/signatures.js';
import { PAYSTACK_SECRET, World, worldContext } from '../support/authz-world.js';
it('probe', async () => {
  const { ctx, close } = await worldContext();
  const w = await World.create(ctx);
  const pay = await w.pendingPayment();
  const bodies = ['', '{', '[]', 'null', '1e309', '"x"', '{"event":1}', '{"event":"charge.success"}', '{"event":"charge.success","data":[]}', '{"event":"charge.success","data":{"reference":"\\u0000"}}',
    '{"event":"charge.success","data":{"reference":"a\\ud800"}}', JSON.stringify({ event: 'charge.success', data: { reference: pay.reference, amount: 1e309, currency: 'USD', status: 'success' } }),
    `{"event":"charge.success","data":{"reference":"${pay.reference}","amount":1e309,"currency":"\\u0000","status":"success","id":"\\u0000"}}`,
    `{"event":"refund.processed","data":{"transaction_reference":"\\u0000","reference":"\\u0000","transaction":{"reference":"\\ud800"}}}`,
    `{"event":"charge.success\\u0000","data":{"reference":"x"}}`,
    '['.repeat(40) + ']'.repeat(40),
    `{"event":"charge.success","data":{"reference":"${'a'.repeat(5000)}"}}`];
  for (const payload of bodies) {
    const res = await ctx.request({ method: 'POST', url: `/api/v1/payments/webhooks/paystack/`, headers: { 'content-type': 'application/json', 'x-paystack-signature': signPaystack(payload, PAYSTACK_SECRET) }, payload });
    console.log('PROBE', res.statusCode, payload.slice(0, 80), '::', res.body.slice(0, 160));
  }
  await close();
}, 60000);
