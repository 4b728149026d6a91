import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../shell/db.js';
import { createTestDatabase } from '../support/harness.js';
import { ROOT, runScript } from '../support/run-script.js';

/**
 * The operator commands as an operator runs them: each in its own process (`node --import tsx`, what the
 * npm scripts do), with an environment holding only what the test gives it.
 */

/** Every command: each script under scripts/ that runs through runCommand. */
const COMMANDS = ['scripts', 'scripts/bench']
  .flatMap((dir) => readdirSync(resolve(ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`))
  .filter((file) => file !== 'scripts/run-command.ts' && /^runCommand\(/m.test(readFileSync(resolve(ROOT, file), 'utf8')));

const run = (script: string, args: string[], env: Record<string, string>, stdin?: string) => runScript(script, args, { PATH: process.env.PATH ?? '', ...env }, stdin);

describe('operator commands', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = openPostgres(database.url, 2);
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const passwordOf = async (email: string) =>
    (await handle.db.selectFrom('users').select(['role', 'password_hash']).where('email', '=', email).executeTakeFirst()) ?? null;

  it('each answers --help with its usage on stdout and exit 0, reading no configuration', async () => {
    expect(COMMANDS).toEqual(expect.arrayContaining(['scripts/migrate.ts', 'scripts/create-admin.ts', 'scripts/seed.ts', 'scripts/jobs.ts', 'scripts/bench/run.ts']));
    // NODE_ENV=production and nothing else: any configuration read would fail.
    const outcomes = await Promise.all(COMMANDS.map((script) => run(script, ['--help'], { NODE_ENV: 'production' })));
    outcomes.forEach((out, i) => {
      expect(out, COMMANDS[i]).toMatchObject({ code: 0, stderr: '' });
      expect(out.stdout, COMMANDS[i]).toMatch(/^usage: /);
    });
  }, 60_000);

  it('migrate needs DATABASE_URL alone, even with NODE_ENV=production', async () => {
    const status = await run('scripts/migrate.ts', ['status'], { NODE_ENV: 'production', DATABASE_URL: database.url });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\d+ applied, 0 pending/);
    const up = await run('scripts/migrate.ts', [], { NODE_ENV: 'production', DATABASE_URL: database.url });
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(up.stdout).toMatch(/nothing to apply/);
    const none = await run('scripts/migrate.ts', [], { NODE_ENV: 'production' });
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe('configuration error: DATABASE_URL: required in production (the embedded database is for development only)');
  }, 60_000);

  it('seed refuses NODE_ENV=production without --force, touching nothing', async () => {
    const out = await run('scripts/seed.ts', [], { NODE_ENV: 'production', DATABASE_URL: database.url });
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^seed: refusing to run with NODE_ENV=production.*--force/);
    expect(await passwordOf('admin@nexus.test')).toBeNull();
  }, 60_000);

  it('create-admin reads the password from stdin (--password-stdin) or ADMIN_PASSWORD, never only argv', async () => {
    const env = { DATABASE_URL: database.url, NODE_ENV: 'production' };
    const piped = await run('scripts/create-admin.ts', ['--email', 'piped@example.test', '--password-stdin'], env, 'piped-password-1\n');
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    const pipedRow = await passwordOf('piped@example.test');
    expect(pipedRow?.role).toBe('admin');
    expect(await verify(pipedRow!.password_hash, 'piped-password-1')).toBe(true); // the newline is not part of it

    const fromEnv = await run('scripts/create-admin.ts', ['--email', 'env@example.test'], { ...env, ADMIN_PASSWORD: 'env-password-12' });
    expect(fromEnv).toMatchObject({ code: 0, stderr: '' });
    expect(await verify((await passwordOf('env@example.test'))!.password_hash, 'env-password-12')).toBe(true);

    const twice = await run('scripts/create-admin.ts', ['--email', 'twice@example.test', '--password', 'argv-password-1'], { ...env, ADMIN_PASSWORD: 'env-password-12' });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/given 2 ways \(--password, ADMIN_PASSWORD\)/);
    const none = await run('scripts/create-admin.ts', ['--email', 'none@example.test'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing password: give --password-stdin, ADMIN_PASSWORD or --password/);
    const short = await run('scripts/create-admin.ts', ['--email', 'short@example.test', '--password-stdin'], env, 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--password-stdin: .*at least 10/);
    for (const email of ['twice@example.test', 'none@example.test', 'short@example.test']) expect(await passwordOf(email)).toBeNull();
  }, 90_000);
});
