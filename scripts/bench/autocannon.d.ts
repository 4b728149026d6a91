// The part of autocannon 9's API the bench uses (the package ships no types).
declare module 'autocannon' {
  interface Histogram {
    p50: number;
    p99: number;
  }
  export interface Result {
    requests: { total: number };
    latency: Histogram;
    non2xx: number;
    errors: number;
    timeouts: number;
    '5xx': number;
    start: Date;
    finish: Date;
  }
  export default function autocannon(options: { url: string; connections: number; duration: number }): Promise<Result>;
}
