import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, loadDatabaseConfig } from '../../shell/config.js';

/**
 * The Docker image and the compose file, checked without a Docker engine: docker-compose.yml (with the
 * deploy/payments/<provider>.yml file its services extend) is parsed and interpolated the way Compose
 * does it (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, nested), the Dockerfile's runtime stage is read
 * for its ENV, CMD, HEALTHCHECK and the directory it hands to `node`, and the results are held against
 * the sources: loadConfig, tsconfig.build.json, package.json and the files each command runs.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

type Env = Record<string, string | undefined>;
type Service = {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  extends?: { file: string; service: string };
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

// --- Compose interpolation (https://docs.docker.com/reference/compose-file/interpolation/) ---------

class MissingVariable extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`required variable ${variable} is missing a value: ${detail}`);
  }
}

function interpolate(text: string, env: Env): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '$') {
      out += text[i++];
    } else if (text[i + 1] === '$') {
      out += '$';
      i += 2;
    } else if (text[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text.startsWith('${', j)) {
          depth++;
          j += 2;
        } else {
          if (text[j] === '}') depth--;
          j++;
        }
      }
      if (depth > 0) throw new Error(`unclosed \${ in ${text}`);
      out += substitute(text.slice(i + 2, j - 1), env);
      i = j;
    } else {
      const name = /^[A-Za-z_]\w*/.exec(text.slice(i + 1))?.[0];
      out += name ? (env[name] ?? '') : '$';
      i += 1 + (name?.length ?? 0);
    }
  }
  return out;
}

function substitute(expression: string, env: Env): string {
  const match = /^([A-Za-z_]\w*)(?:(:?[-?+])([\s\S]*))?$/.exec(expression);
  if (!match) throw new Error(`invalid interpolation \${${expression}}`);
  const [, name, operator, operand = ''] = match as unknown as [string, string, string | undefined, string | undefined];
  const value = env[name];
  const set = value !== undefined;
  const usable = operator?.startsWith(':') ? set && value !== '' : set;
  switch (operator?.replace(':', '')) {
    case undefined:
      return value ?? '';
    case '-':
      return usable ? value! : interpolate(operand, env);
    case '?':
      if (usable) return value!;
      throw new MissingVariable(name, interpolate(operand, env));
    default: // '+'
      return usable ? interpolate(operand, env) : '';
  }
}

function interpolateAll<T>(node: T, env: Env): T {
  if (typeof node === 'string') return interpolate(node, env) as T;
  if (Array.isArray(node)) return node.map((x: unknown) => interpolateAll(x, env)) as T;
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)])) as T;
  return node;
}

/** docker-compose.yml as Compose resolves it with this shell environment: interpolated, `extends` applied. */
function loadCompose(env: Env): Compose {
  const project = interpolateAll(parse(read('docker-compose.yml')) as Compose, env);
  for (const service of Object.values(project.services)) {
    if (!service.extends) continue;
    const base = interpolateAll(parse(read(service.extends.file)) as Compose, env).services[service.extends.service];
    if (!base) throw new Error(`${service.extends.file} has no service ${service.extends.service}`);
    service.environment = { ...base.environment, ...service.environment };
  }
  return project;
}

// --- The Dockerfile's runtime stage ------------------------------------------------------------------

type Instruction = { op: string; args: string };

function dockerfileStages(): Instruction[][] {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\w+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

const stages = dockerfileStages();
const buildStage = stages[0]!;
const runtime = stages.at(-1)!;
const imageEnv: Env = Object.fromEntries(
  runtime.filter((i) => i.op === 'ENV').flatMap((i) => i.args.split(/\s+/).map((pair) => pair.split('=') as [string, string])),
);
const imageCmd = JSON.parse(runtime.find((i) => i.op === 'CMD')!.args) as string[];

/** What a container of this service sees: the image's ENV, then the service's environment. */
const containerEnv = (service: Service): Env => ({ ...imageEnv, ...service.environment });

// --- Fixtures ----------------------------------------------------------------------------------------

const NEXUS = ['migrate', 'api', 'worker'] as const;
const PROVIDERS = { paystack: ['PAYSTACK_SECRET_KEY'], stripe: ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'] } as const;
const SAMPLE: Env = { JWT_SECRET: 'j'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') };

/** Sets each variable Compose stops on, one at a time, until it loads: what an operator must provide. */
function requiredVariables(start: Env): { env: Env; required: string[] } {
  const env: Env = { ...start };
  const required: string[] = [];
  for (;;) {
    try {
      loadCompose(env);
      return { env, required: required.sort() };
    } catch (error) {
      if (!(error instanceof MissingVariable) || required.includes(error.variable)) throw error;
      required.push(error.variable);
      env[error.variable] = SAMPLE[error.variable] ?? `sample-${error.variable.toLowerCase()}`;
    }
  }
}

/** The configuration variables shell/config.ts reads (the keys of its zod schema). */
const configKeys = new Set([...read('shell/config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]!));

/** Bare packages a compiled entry point loads at run time, following its relative imports. */
function runtimePackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = read(file);
    const specifiers = [
      ...source.matchAll(/^\s*import\s+(?!type\s)[^;'"]*?\sfrom\s+'([^']+)'/gm),
      ...source.matchAll(/^\s*import\s+'([^']+)'/gm),
      ...source.matchAll(/^\s*export\s+(?:\*|\{[^}]*\})\s+from\s+'([^']+)'/gm),
      ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1]!);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) queue.push(relative(ROOT, resolve(ROOT, dirname(file), specifier.replace(/\.js$/, '.ts'))));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) packages.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
    }
  }
  return packages;
}

// --- The invariants ----------------------------------------------------------------------------------

describe('Docker image and compose file (parsed: no Docker engine here)', () => {
  const { env: paystackEnv } = requiredVariables({});
  const compose = loadCompose(paystackEnv);
  const services = compose.services;

  it('builds one image once: api, worker and migrate name it, and only one of them builds it', () => {
    const images = NEXUS.map((name) => services[name]!.image);
    expect(new Set(images).size).toBe(1);
    expect(images[0]).toBeTruthy();
    const builders = NEXUS.filter((name) => services[name]!.build !== undefined);
    expect(builders).toEqual(['api']);
    expect(services.api!.build).toBe('.');
    expect(existsSync(resolve(ROOT, 'Dockerfile'))).toBe(true);
  });

  it("runs in every service a file the image's build produces (dist/X.js compiled from X.ts)", () => {
    const tsconfig = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { outDir: string; rootDir: string }; include: string[] };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toMatch(/tsc (-b|-p) tsconfig\.build\.json/);
    expect(buildStage.some((i) => i.op === 'RUN' && i.args === 'npm run build')).toBe(true);
    expect(runtime.some((i) => i.op === 'COPY' && /^--from=build \/app\/dist \.\/dist$/.test(i.args))).toBe(true);
    const copied = buildStage.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/)[0]!);

    const commands: { name: string; command: string[] }[] = NEXUS.map((name) => ({ name, command: services[name]!.command ?? imageCmd }));
    commands.push({ name: 'the image CMD', command: imageCmd });
    for (const { name, command } of commands) {
      expect(command[0], name).toBe('node');
      const [, compiled] = /^dist\/(.+)\.js$/.exec(command[1] ?? '') ?? [];
      expect(compiled, `${name}: ${command.join(' ')}`).toBeDefined();
      const source = `${compiled}.ts`;
      const top = source.split('/')[0]!;
      expect(existsSync(resolve(ROOT, source)), `${name}: ${source}`).toBe(true);
      expect(tsconfig.include, `${name}: tsconfig.build.json compiles ${top}/`).toContain(top);
      expect(copied, `${name}: the build stage copies ${top}/`).toContain(top);
    }
  });

  it('documents operator commands that the image has (node dist/scripts/X.js)', () => {
    const documented = new Set([...`${read('README.md')}\n${read('Dockerfile')}`.matchAll(/node (dist\/scripts\/[\w/-]+)\.js/g)].map((m) => m[1]!));
    expect([...documented]).toEqual(expect.arrayContaining(['dist/scripts/create-admin', 'dist/scripts/migrate']));
    for (const compiled of documented) expect(existsSync(resolve(ROOT, `${compiled.replace(/^dist\//, '')}.ts`)), compiled).toBe(true);
  });

  it('needs in the image only production dependencies (npm ci --omit=dev) for what it runs', () => {
    expect(runtime.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args))).toBe(true);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const entries = [imageCmd[1]!, 'dist/scripts/migrate.js', 'dist/scripts/create-admin.js', 'dist/scripts/seed.js', 'dist/scripts/jobs.js', ...NEXUS.map((n) => services[n]!.command?.[1] ?? imageCmd[1]!)];
    expect([...runtimePackages('shell/server.ts')]).toEqual(expect.arrayContaining(['fastify', 'pg', 'kysely', '@electric-sql/pglite']));
    for (const entry of new Set(entries)) {
      for (const name of runtimePackages(entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'))) {
        expect(Object.keys(pkg.dependencies), `${entry} loads ${name}`).toContain(name);
      }
    }
  });

  it('keeps uploaded media on a named volume at DATA_DIR/media, a directory the image gives to node', () => {
    const dataDir = containerEnv(services.api!).DATA_DIR!;
    expect(dataDir).toBe('/app/.data');
    expect(services.api!.volumes).toContain(`media:${dataDir}/media`);
    expect(Object.keys(compose.volumes ?? {})).toContain('media');
    const user = runtime.findIndex((i) => i.op === 'USER' && i.args === 'node');
    const prepared = runtime.findIndex((i) => i.op === 'RUN' && i.args.includes(`mkdir -p ${dataDir}/media`) && i.args.includes(`chown -R node:node ${dataDir}`));
    expect(prepared).toBeGreaterThan(-1);
    expect(user).toBeGreaterThan(prepared);
  });

  it('has a healthcheck on the api (the image HEALTHCHECK) and its own on the worker (the heartbeat file)', () => {
    expect(runtime.find((i) => i.op === 'HEALTHCHECK')?.args).toMatch(/\/healthz/);
    expect(services.api!.healthcheck?.disable).not.toBe(true);
    const worker = services.worker!.healthcheck;
    expect(worker?.disable).not.toBe(true);
    expect(worker?.test?.join(' ')).toMatch(/nexus-worker\.alive/);
    expect(read('shell/jobs/worker.ts')).toMatch(/join\(tmpdir\(\), 'nexus-worker\.alive'\)/);
    expect(services.migrate!.healthcheck?.disable).toBe(true); // a one-shot has nothing to probe
  });

  for (const [provider, secrets] of Object.entries(PROVIDERS)) {
    it(`with PAYMENT_PROVIDER=${provider}: requires (:?) exactly what production needs, and the config loads`, () => {
      const start: Env = provider === 'paystack' ? {} : { PAYMENT_PROVIDER: provider };
      const { env, required } = requiredVariables(start);
      expect(required).toEqual(['ENCRYPTION_KEY', 'JWT_SECRET', ...secrets].sort());
      const project = loadCompose(env);
      for (const name of ['api', 'worker']) {
        const seen = containerEnv(project.services[name]!);
        for (const variable of ['DATABASE_URL', 'JWT_SECRET', 'ENCRYPTION_KEY', 'PAYMENT_PROVIDER', ...secrets]) expect(seen[variable], `${name}: ${variable}`).toBeTruthy();
        const config = loadConfig(seen);
        expect(config).toMatchObject({ NODE_ENV: 'production', PAYMENT_PROVIDER: provider, DATA_DIR: '/app/.data', HOST: '0.0.0.0', PORT: 3000 });
        for (const variable of Object.keys(project.services[name]!.environment ?? {})) expect(configKeys, `${name} passes ${variable}, which the config does not read`).toContain(variable);
      }
    });
  }

  it('refuses a provider it has no settings for (the fake one): its deploy/payments file does not exist', () => {
    expect(() => loadCompose({ ...paystackEnv, PAYMENT_PROVIDER: 'fake' })).toThrow(/ENOENT/);
  });

  it('gives migrate DATABASE_URL alone, which is all its configuration needs', () => {
    expect(Object.keys(services.migrate!.environment ?? {})).toEqual(['DATABASE_URL']);
    const seen = containerEnv(services.migrate!);
    expect(loadDatabaseConfig(seen)).toMatchObject({ NODE_ENV: 'production', DATABASE_URL: 'postgres://nexus:nexus@postgres:5432/nexus' });
    expect(() => loadConfig(seen)).toThrow(/JWT_SECRET/); // the whole config would not load there
    expect(services.migrate!.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(read('scripts/migrate.ts')).toMatch(/loadDatabaseConfig\(process\.env\)/);
    expect(read('scripts/migrate.ts')).not.toMatch(/\bloadConfig\(/);
  });

  it('points PUBLIC_URL at the published port unless it is set', () => {
    const moved = loadCompose({ ...paystackEnv, API_PORT: '8080' });
    expect(moved.services.api!.ports).toEqual(['8080:3000']);
    expect(moved.services.api!.environment!.PUBLIC_URL).toBe('http://localhost:8080');
    expect(services.api!.environment!.PUBLIC_URL).toBe('http://localhost:3000');
    const set = loadCompose({ ...paystackEnv, API_PORT: '8080', PUBLIC_URL: 'https://shop.example.com' });
    expect(set.services.api!.environment!.PUBLIC_URL).toBe('https://shop.example.com');
  });

  it('passes CORS_ORIGINS, TRUST_PROXY, CURRENCY and SMTP_URL through to api and worker', () => {
    const given = { CORS_ORIGINS: 'https://shop.example.com', TRUST_PROXY: 'true', CURRENCY: 'EUR', SMTP_URL: 'smtp://mail.example.com:587' };
    const project = loadCompose({ ...paystackEnv, ...given });
    for (const name of ['api', 'worker']) {
      expect(project.services[name]!.environment).toMatchObject(given);
      expect(loadConfig(containerEnv(project.services[name]!))).toMatchObject({ CORS_ORIGINS: given.CORS_ORIGINS, TRUST_PROXY: true, CURRENCY: 'EUR', SMTP_URL: given.SMTP_URL });
    }
    // Unset, they fall back to the configuration's defaults.
    expect(loadConfig(containerEnv(services.api!))).toMatchObject({ CORS_ORIGINS: '', TRUST_PROXY: false, CURRENCY: 'USD' });
  });

  it('interpolates like Compose: defaults, nesting, required values and $$', () => {
    expect(interpolate('${A:-x}/${B-y}/${C:-${D:-z}}/$$E', { A: '', B: '' })).toBe('x//z/$E');
    expect(interpolate('${A:+on}${B:+on}', { A: '1', B: '' })).toBe('on');
    expect(() => interpolate('${A:?tell me}', { A: '' })).toThrow(/A is missing a value: tell me/);
    expect(interpolate('${A?tell me}', { A: '' })).toBe('');
  });
});
