import { loadDatabaseConfig } from '../shell/config.js';
import { migrator, openDatabase } from '../shell/db.js';
import { runCommand } from './run-command.js';

/**
 * Operator command for the schema.
 *   npm run migrate            apply every pending migration
 *   npm run migrate -- down    undo the most recent migration (one step)
 *   npm run migrate -- status  list applied and pending migrations
 * Uses DATABASE_URL when set, else the embedded database under DATA_DIR. Safe to run twice.
 * It reads only the database settings (loadDatabaseConfig): a one-shot migration needs DATABASE_URL,
 * not the API's secrets.
 */

const usage = `usage: npm run migrate [-- up|down|status]
       node dist/scripts/migrate.js [up|down|status]     (compiled, as in the Docker image)

  up      apply every pending migration (the default); safe to run twice
  down    undo the most recent migration (one step)
  status  list applied and pending migrations

Environment: DATABASE_URL (postgres://…; required with NODE_ENV=production), else the embedded
database under DATA_DIR (default ./.data). Nothing else is read.`;

async function main(): Promise<number> {
  const command = process.argv[2] ?? 'up';
  if (!['up', 'down', 'status'].includes(command)) {
    process.stderr.write(`unknown command "${command}"\n${usage}\n`);
    return 2;
  }
  const config = loadDatabaseConfig(process.env);
  const database = await openDatabase(config);
  const m = migrator(database.db);
  process.stdout.write(`database: ${database.kind} (${database.location})\n`);
  try {
    if (command === 'status') {
      const all = await m.getMigrations();
      for (const migration of all) {
        const state = migration.executedAt ? `applied ${migration.executedAt.toISOString()}` : 'pending';
        process.stdout.write(`  ${migration.name.padEnd(24)} ${state}\n`);
      }
      const pending = all.filter((x) => !x.executedAt).length;
      process.stdout.write(`${all.length - pending} applied, ${pending} pending\n`);
      return 0;
    }

    const { error, results } = command === 'up' ? await m.migrateToLatest() : await m.migrateDown();
    for (const r of results ?? []) {
      const verb = r.direction === 'Up' ? 'applied' : 'reverted';
      process.stdout.write(`  ${r.status === 'Success' ? verb : r.status === 'Error' ? 'FAILED ' : 'skipped'} ${r.migrationName}\n`);
    }
    if (error) {
      process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
    if (!results?.length) process.stdout.write(command === 'up' ? 'nothing to apply: the schema is up to date\n' : 'nothing to revert: no migration is applied\n');
    return 0;
  } finally {
    await database.close();
  }
}

runCommand('migrate', main, usage);
