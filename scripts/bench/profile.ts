import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by where the code lives
 * (a package under node_modules, Node's own modules, this project's files, GC and idle time).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of busy time (idle excluded), by function. */
  functions: { name: string; where: string; ms: number; share: number }[];
  areas: { area: string; ms: number; share: number }[];
}

const ROOT = resolve(import.meta.dirname, '../..');

function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  if (path.startsWith('node:')) return 'node internals';
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel.split('/').slice(0, 2).join('/');
}

function whereOf(url: string, line: number): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  const pkg = /node_modules\/(.*)$/.exec(path);
  const shown = pkg ? pkg[1]! : path.startsWith('node:') ? path : relative(ROOT, path);
  return `${shown}:${line + 1}`;
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const functions = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let busyUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    totalUs += us;
    if (functionName === '(idle)') continue;
    busyUs += us;
    const name = functionName || '(anonymous)';
    const where = whereOf(url, lineNumber);
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const share = (us: number) => (busyUs === 0 ? 0 : us / busyUs);
  return {
    totalMs: totalUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(7);
  const lines = [`CPU profile, ${(summary.totalMs / 1000).toFixed(1)} s sampled; shares of busy (non-idle) time`, '', 'self time by area:'];
  for (const a of summary.areas) lines.push(`${pct(a.share)}  ${a.area}`);
  lines.push('', 'top functions by self time:');
  for (const f of summary.functions) lines.push(`${pct(f.share)}  ${f.name}  ${f.where}`);
  return lines.join('\n');
}

// `npx tsx scripts/bench/profile.ts file.cpuprofile` prints the summary of any profile.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx scripts/bench/profile.ts <file.cpuprofile>\n');
    process.exit(1);
  }
  process.stdout.write(`${formatProfile(summariseProfile(file, 25))}\n`);
}
