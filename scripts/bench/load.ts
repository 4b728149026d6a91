import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { extname, resolve } from 'node:path';
import type { Result } from 'autocannon';
import type { CannonRun } from './cannon.js';

/** Load generation: autocannon (a child process) for reads, a closed loop of virtual customers for writes. */

export interface Figures {
  /** Completed operations per second (requests, or whole purchases). */
  rps: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, and of those the 5xx; transport errors count as 5xx. */
  non2xx: number;
  fivexx: number;
  operations: number;
}

/** autocannon in its own process (scripts/bench/cannon.ts), so it does not share this process's event loop. */
export class Cannon {
  private readonly child: ChildProcess;
  constructor() {
    const ext = extname(import.meta.filename);
    this.child = fork(resolve(import.meta.dirname, `cannon${ext}`), [], { execArgv: ext === '.ts' ? ['--import', 'tsx'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  private once(run: CannonRun): Promise<Result> {
    return new Promise((resolveRun, reject) => {
      this.child.once('message', (m: { ok: true; result: Result } | { ok: false; error: string }) => (m.ok ? resolveRun(m.result) : reject(new Error(`autocannon: ${m.error}`))));
      this.child.send(run);
    });
  }

  /** `duration` seconds of load on `url` after `warmup` seconds not counted (JIT, pool, cache). */
  async measure(url: string, options: { connections: number; duration: number; warmup: number }): Promise<Figures> {
    if (options.warmup > 0) await this.once({ url, connections: options.connections, duration: options.warmup });
    const r = await this.once({ url, connections: options.connections, duration: options.duration });
    const seconds = (new Date(r.finish).getTime() - new Date(r.start).getTime()) / 1000 || options.duration;
    return {
      rps: r.requests.total / seconds,
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx + r.errors,
      fivexx: r['5xx'] + r.errors + r.timeouts,
      operations: r.requests.total,
    };
  }

  close(): void {
    this.child.disconnect();
  }
}

/**
 * One figure from rounds of the same measurement (interleaved with other servers' rounds, so noise on a
 * shared machine falls on every server alike): throughput over all rounds, the median round's p50 and
 * the worst round's p99.
 */
export function combineRounds(rounds: Figures[]): Figures {
  const seconds = rounds.map((r) => (r.rps > 0 ? r.operations / r.rps : 0)).reduce((a, b) => a + b, 0);
  const operations = rounds.reduce((sum, r) => sum + r.operations, 0);
  const p50s = rounds.map((r) => r.p50).sort((a, b) => a - b);
  return {
    rps: seconds > 0 ? operations / seconds : 0,
    p50: p50s[Math.floor((p50s.length - 1) / 2)] ?? 0,
    p99: Math.max(0, ...rounds.map((r) => r.p99)),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    fivexx: rounds.reduce((sum, r) => sum + r.fivexx, 0),
    operations,
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  ms: number;
}

/** JSON over keep-alive node:http: small enough that the client costs little next to the server. */
export class Client {
  private readonly agent: Agent;
  constructor(
    private readonly base: string,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  call(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
    const started = performance.now();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolvePromise) => {
      const req = request(
        `${this.base}${path}`,
        {
          method,
          agent: this.agent,
          headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> | null;
            try {
              parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
            } catch {
              parsed = null;
            }
            resolvePromise({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - started });
          });
        },
      );
      // A transport error is reported as status 0 (counted as a 5xx: the server failed to answer).
      req.on('error', () => resolvePromise({ status: 0, body: null, ms: performance.now() - started }));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Tallies operations of a closed-loop run: latency of each, and answers by class. */
export class Tally {
  readonly latencies: number[] = [];
  non2xx = 0;
  fivexx = 0;
  readonly statuses = new Map<number, number>();
  answered = 0;

  answer(a: Answer): Answer {
    this.answered++;
    this.statuses.set(a.status, (this.statuses.get(a.status) ?? 0) + 1);
    if (a.status < 200 || a.status >= 300) this.non2xx++;
    if (a.status >= 500 || a.status === 0) this.fivexx++;
    return a;
  }

  figures(seconds: number): Figures {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return { rps: this.latencies.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), non2xx: this.non2xx, fivexx: this.fivexx, operations: this.latencies.length };
  }
}

/**
 * `workers` virtual customers, each running `operation` back to back until `seconds` have passed (after
 * `warmup` seconds not counted). `operation` returns its latency in ms, or null when it did not complete
 * (a refusal), so only completed operations count towards throughput: those that end within the
 * measured seconds (operations still running at the end finish, uncounted).
 */
export async function closedLoop(workers: number, seconds: number, warmup: number, operation: (worker: number) => Promise<number | null>, tally: Tally): Promise<Figures> {
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + seconds * 1000;
  const mine = new Tally();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < end) {
        const ms = await operation(worker);
        const at = performance.now();
        if (ms !== null && at >= measureFrom && at <= end) {
          mine.latencies.push(ms);
          tally.latencies.push(ms);
        }
      }
    }),
  );
  return { ...mine.figures(seconds), non2xx: tally.non2xx, fivexx: tally.fivexx };
}
