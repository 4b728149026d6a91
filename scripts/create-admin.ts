import { parseArgs } from 'node:util';
import { checkEmail, checkPassword } from '../core/users.js';
import { loadConfig } from '../shell/config.js';
import { migrateToLatest, openDatabase, pendingMigrations } from '../shell/db.js';
import { DomainFailure } from '../core/errors.js';
import { createOrPromoteAdmin } from '../shell/services/users.js';
import { runCommand } from './run-command.js';

/**
 * npm run create-admin -- --email E --password P [--name N]
 *
 * Creates an admin, or promotes an existing user (matched case-insensitively by email) to admin,
 * reactivates them, sets the new password and ends their sessions. On the embedded database pending
 * migrations are applied first; on DATABASE_URL the command refuses to run against an old schema.
 */

const USAGE = 'usage: npm run create-admin -- --email <email> --password <password (at least 10 characters)> [--name <full name>]';

function fail(message: string): never {
  process.stderr.write(`create-admin: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function readArguments(): { email: string; password: string; name: string | undefined } {
  let values: { email?: string; password?: string; name?: string };
  try {
    ({ values } = parseArgs({
      options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (!values.email) fail('missing --email');
  if (!values.password) fail('missing --password');
  const email = checkEmail(values.email);
  if (!email.ok) fail(`--email: ${email.error.detail ?? 'not a valid email address'}`);
  const password = checkPassword(values.password);
  if (!password.ok) fail(`--password: ${password.error.detail ?? 'not acceptable'}`);
  return { email: email.value, password: values.password, name: values.name };
}

async function main(): Promise<number> {
  const input = readArguments();
  const config = loadConfig(process.env);
  const handle = await openDatabase(config);
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
    const outcome = await createOrPromoteAdmin(handle.db, new Date(), { email: input.email, password: input.password, full_name: input.name });
    if (outcome.action === 'create') {
      console.log(`Created admin ${outcome.user.email} (id ${outcome.user.id})`);
    } else {
      console.log(`Promoted existing user ${outcome.user.email} (id ${outcome.user.id}) to admin: active, password reset`);
      console.log(`Ended ${outcome.sessionsRevoked} live session(s); their access tokens no longer work`);
    }
    return 0;
  } catch (error) {
    const message = error instanceof DomainFailure ? `${error.error.type}: ${error.message}` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`create-admin: ${message}\n`);
    return 1;
  } finally {
    await handle.close();
  }
}

runCommand('create-admin', main);
