import { parseArgs } from 'node:util';
import { checkEmail, checkPassword } from '../core/users.js';
import { USER_AUTH_TTL_SECONDS } from '../shell/auth-cache.js';
import { redisCache } from '../shell/cache.js';
import { loadCacheConfig, loadDatabaseConfig } from '../shell/config.js';
import { migrateToLatest, openDatabase, pendingMigrations } from '../shell/db.js';
import { DomainFailure } from '../core/errors.js';
import { connectRedis } from '../shell/redis.js';
import { createOrPromoteAdmin } from '../shell/services/users.js';
import { runCommand } from './run-command.js';

/**
 * npm run create-admin -- --email E --password-stdin [--name N]   (password on stdin)
 * ADMIN_PASSWORD=… npm run create-admin -- --email E              (password in the environment)
 *
 * Creates an admin, or promotes an existing user (matched case-insensitively by email) to admin,
 * reactivates them, sets the new password and ends their sessions. On the embedded database pending
 * migrations are applied first; on DATABASE_URL the command refuses to run against an old schema.
 * The password can also be given as `--password P`, but argv is visible to every user of the machine
 * (`ps`), so stdin or ADMIN_PASSWORD is what the README shows. It reads the database settings and, when
 * set, REDIS_URL and REDIS_PREFIX: the API caches each user's role and token version there, and a promotion
 * retires that cache so the user's old access tokens stop working at once. Without REDIS_URL they stop
 * within USER_AUTH_TTL_SECONDS (the cache entry's lifetime in an API process).
 */

const USAGE = `usage: npm run create-admin -- --email <email> --password-stdin [--name <full name>]
       ADMIN_PASSWORD=<password> npm run create-admin -- --email <email> [--name <full name>]
       node dist/scripts/create-admin.js …same options…     (compiled, as in the Docker image)

  --email <email>      the admin's email; an existing user with it is promoted, reactivated and reset
  --password-stdin     read the password from standard input (one line; a trailing newline is dropped)
  --password <pw>      the password on the command line (visible in \`ps\`: prefer the two above)
  --name <full name>   the admin's full name (new users only)

The password needs at least 10 characters; give it exactly one way. Environment: ADMIN_PASSWORD,
DATABASE_URL (else the embedded database under DATA_DIR), REDIS_URL and REDIS_PREFIX (the API's cache,
so a promoted user's old access tokens stop working at once); nothing else is read.`;

function fail(message: string): never {
  process.stderr.write(`create-admin: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('create-admin: type the password, then Enter and Ctrl-D\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function readArguments(env: Record<string, string | undefined>): Promise<{ email: string; password: string; name: string | undefined }> {
  let values: { email?: string; password?: string; 'password-stdin'?: boolean; name?: string };
  try {
    ({ values } = parseArgs({
      options: { email: { type: 'string' }, password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, name: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (!values.email) fail('missing --email');
  const sources = [values.password !== undefined && '--password', values['password-stdin'] && '--password-stdin', env.ADMIN_PASSWORD !== undefined && 'ADMIN_PASSWORD'].filter(Boolean);
  if (sources.length === 0) fail('missing password: give --password-stdin, ADMIN_PASSWORD or --password');
  if (sources.length > 1) fail(`the password was given ${sources.length} ways (${sources.join(', ')}): give it one way`);
  const email = checkEmail(values.email);
  if (!email.ok) fail(`--email: ${email.error.detail ?? 'not a valid email address'}`);
  const given = values['password-stdin'] ? await readStdin() : (values.password ?? env.ADMIN_PASSWORD ?? '');
  const password = checkPassword(given);
  if (!password.ok) fail(`${sources[0]}: ${password.error.detail ?? 'not acceptable'}`);
  return { email: email.value, password: given, name: values.name };
}

async function main(): Promise<number> {
  const input = await readArguments(process.env);
  const config = loadDatabaseConfig(process.env);
  const cacheConfig = loadCacheConfig(process.env);
  const handle = await openDatabase(config);
  const redis = cacheConfig.REDIS_URL ? connectRedis(cacheConfig.REDIS_URL) : null;
  try {
    if (handle.kind === 'embedded') {
      const applied = await migrateToLatest(handle.db);
      console.log(applied.length > 0 ? `Applied ${applied.length} migration(s) to the embedded database at ${handle.location}` : `Embedded database at ${handle.location}: migrations up to date`);
    } else {
      const pending = await pendingMigrations(handle.db);
      if (pending.length > 0) {
        process.stderr.write(`create-admin: the database at ${handle.location} has ${pending.length} pending migration(s) (${pending.join(', ')}); run \`npm run migrate\` first\n`);
        return 1;
      }
    }
    const cache = redis ? redisCache(redis, cacheConfig.REDIS_PREFIX) : null;
    const outcome = await createOrPromoteAdmin(handle.db, cache, new Date(), { email: input.email, password: input.password, full_name: input.name });
    if (outcome.action === 'create') {
      console.log(`Created admin ${outcome.user.email} (id ${outcome.user.id})`);
    } else {
      console.log(`Promoted existing user ${outcome.user.email} (id ${outcome.user.id}) to admin: active, password reset`);
      console.log(
        cache
          ? `Ended ${outcome.sessionsRevoked} live session(s); their access tokens no longer work`
          : `Ended ${outcome.sessionsRevoked} live session(s); their access tokens stop working within ${USER_AUTH_TTL_SECONDS} s (at once when REDIS_URL is given)`,
      );
    }
    return 0;
  } catch (error) {
    const message = error instanceof DomainFailure ? `${error.error.type}: ${error.message}` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`create-admin: ${message}\n`);
    return 1;
  } finally {
    await handle.close();
    redis?.disconnect();
  }
}

runCommand('create-admin', main, USAGE);
