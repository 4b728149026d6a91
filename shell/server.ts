import closeWithGrace from 'close-with-grace';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { migrateToLatest, openDatabase, pendingMigrations } from './db.js';

/** Entry point: config from the environment, database, app, listen; graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const database = await openDatabase(config);
  if (database.kind === 'embedded') {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(`embedded database at ${database.location}${applied.length ? `; applied migrations: ${applied.join(', ')}` : ''}\n`);
  } else {
    const pending = await pendingMigrations(database.db);
    if (pending.length > 0) {
      process.stderr.write(`database ${database.location} has pending migrations (${pending.join(', ')}); run \`npm run migrate\` first\n`);
      await database.close();
      process.exit(1);
    }
  }

  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 }) : null;
  redis?.on('error', () => undefined); // readiness reports it; ioredis reconnects by itself

  const app = await buildApp(config, { db: database.db, redis });

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close(); // stops accepting, lets in-flight requests finish
    await database.close();
    redis?.disconnect();
  });

  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
