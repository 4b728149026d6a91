import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOptions } from '../../shell/http/connections.js';
import { loadConfig } from '../../shell/config.js';
import { createTestContext, type TestContext } from '../support/harness.js';

/**
 * Connection limits on a listening server (real sockets, not inject): a client that sends its headers or
 * its body slower than the timeouts is cut off, an idle keep-alive connection is closed, and a saturated
 * process sheds load with 503 busy instead of queueing work.
 */

interface RawClient {
  socket: Socket;
  received: () => string;
  /** Milliseconds from connecting until the server closed the connection. */
  closed: Promise<number>;
}

async function rawClient(ctx: TestContext): Promise<RawClient> {
  const { port } = ctx.app.server.address() as AddressInfo;
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const started = performance.now();
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started)));
  return { socket, received: () => data, closed };
}

/** Writes one byte every `everyMs` until the socket closes or `maxBytes` are sent. */
function dribble(client: RawClient, bytes: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (client.socket.destroyed || i >= bytes.length) return clearInterval(timer);
    client.socket.write(bytes[i++]!);
  }, everyMs);
  return () => clearInterval(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const race = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'still open' as const)]);

const SLOW_BODY_HEADERS =
  'POST /api/v1/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';
const BODY = `{"email":"someone@example.test","password":"${'x'.repeat(150)}"}`;

describe('connection timeouts from configuration', () => {
  let short: TestContext;
  let defaults: TestContext;

  beforeAll(async () => {
    short = await createTestContext({
      env: { HTTP_REQUEST_TIMEOUT_MS: '800', HTTP_HEADERS_TIMEOUT_MS: '400', HTTP_KEEP_ALIVE_TIMEOUT_MS: '300', HTTP_CONNECTION_TIMEOUT_MS: '5000' },
    });
    defaults = await createTestContext();
    await short.app.listen({ port: 0, host: '127.0.0.1' });
    await defaults.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await short?.close();
    await defaults?.close();
  });

  it('applies the configured timeouts to the Node server, with documented defaults', () => {
    expect(short.app.server).toMatchObject({ requestTimeout: 800, headersTimeout: 400, keepAliveTimeout: 300, timeout: 5000 });
    expect(defaults.app.server).toMatchObject({ requestTimeout: 60_000, headersTimeout: 10_000, keepAliveTimeout: 72_000, timeout: 120_000 });
    expect(connectionOptions(loadConfig({})).http).toMatchObject({ connectionsCheckingInterval: 2500 });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/^HTTP_HEADERS_TIMEOUT_MS/);
  });

  it('before: with the default 60 s request timeout a slow-body client is still connected after 1.5 s', async () => {
    const client = await rawClient(defaults);
    client.socket.write(SLOW_BODY_HEADERS);
    const stop = dribble(client, BODY, 100);
    expect(await race(client.closed, 1500)).toBe('still open');
    stop();
    client.socket.destroy();
  });

  it('cuts off a client dribbling its body slower than HTTP_REQUEST_TIMEOUT_MS with 408, having answered nothing else', async () => {
    const client = await rawClient(short);
    client.socket.write(SLOW_BODY_HEADERS);
    const stop = dribble(client, BODY, 100);
    const closedAfter = await race(client.closed, 5000);
    stop();
    expect(closedAfter).not.toBe('still open');
    expect(closedAfter as number).toBeGreaterThanOrEqual(700);
    expect(closedAfter as number).toBeLessThan(2500);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts off a client dribbling its headers slower than HTTP_HEADERS_TIMEOUT_MS', async () => {
    const client = await rawClient(short);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const stop = dribble(client, `X-Slow: ${'a'.repeat(100)}\r\n`, 50);
    const closedAfter = await race(client.closed, 5000);
    stop();
    expect(closedAfter).not.toBe('still open');
    expect(closedAfter as number).toBeLessThan(1500);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_MS, after answering on it', async () => {
    const client = await rawClient(short);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    const closedAfter = await race(client.closed, 3000);
    expect(closedAfter).not.toBe('still open');
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(client.received()).toMatch(/keep-alive: timeout=0/i);
  });

  it('still answers ordinary requests', async () => {
    const { port } = short.app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nobody@example.test', password: 'wrong-password-1' }) });
    expect(res.status).toBe(401);
  });
});

describe('load shedding with @fastify/under-pressure', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext({
      env: { UNDER_PRESSURE_ENABLED: 'true', UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '20', UNDER_PRESSURE_SAMPLE_INTERVAL_MS: '25', UNDER_PRESSURE_RETRY_AFTER_SECONDS: '7' },
    });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const busyFor = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // Saturating the event loop on purpose, as a burst of CPU-heavy requests would.
    }
  };

  /** Runs `work` while the event loop is saturated: 150 ms blocks with a turn of the loop between them. */
  async function whileSaturated<T>(work: () => Promise<T>): Promise<T> {
    let stop = false;
    const saturation = (async () => {
      while (!stop) {
        busyFor(150);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
      return await work();
    } finally {
      stop = true;
      await saturation;
    }
  }

  it('answers 200 while the event loop keeps up', async () => {
    expect((await ctx.request({ method: 'GET', url: '/api/v1/categories/' })).statusCode).toBe(200);
  });

  it('answers 503 busy problem+json with Retry-After while it is saturated, except /healthz and /readyz, and recovers', async () => {
    const { busy, health, ready } = await whileSaturated(async () => {
      await sleep(200);
      let answer = await ctx.request({ method: 'GET', url: '/api/v1/categories/' });
      for (let i = 0; i < 20 && answer.statusCode !== 503; i++) answer = await ctx.request({ method: 'GET', url: '/api/v1/categories/' });
      return { busy: answer, health: await ctx.request({ method: 'GET', url: '/healthz' }), ready: await ctx.request({ method: 'GET', url: '/readyz' }) };
    });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(busy.headers['retry-after']).toBe('7');
    expect(busy.json()).toMatchObject({ status: 503, code: 'busy' });
    expect(health.statusCode).toBe(200);
    // Before: /readyz got the shed 503 written with its own schema, which failed: 500.
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok' });

    let after = await ctx.request({ method: 'GET', url: '/api/v1/categories/' });
    for (let i = 0; i < 40 && after.statusCode !== 200; i++) {
      await sleep(50);
      after = await ctx.request({ method: 'GET', url: '/api/v1/categories/' });
    }
    expect(after.statusCode).toBe(200);
  });
});
