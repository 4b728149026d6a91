import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildApp } from '../shell/app.js';
import { loadConfig } from '../shell/config.js';
import { openPostgres } from '../shell/db.js';
import { runCommand } from './run-command.js';

/**
 * Writes the OpenAPI document the API serves at /docs/json to openapi.json at the repository root, so
 * that API changes show up in review (tests/api/openapi.test.ts fails while the two differ).
 *
 * The app is built from a fixed configuration, never the environment: no server URL (PUBLIC_URL), the
 * default rate limits, no Redis, no timestamps; the database is never connected to. The same sources
 * always give the same bytes.
 */

const usage = `usage: npm run openapi [-- --check]
  writes openapi.json (the document served at /docs/json) from the sources
  --check   write nothing; exit 1 if openapi.json is not what the sources give`;

/** At the repository root (npm runs scripts there). */
const OPENAPI_FILE = resolve(process.cwd(), 'openapi.json');

/** The configuration the document is generated with: defaults only (what an unconfigured server states). */
const FIXED_ENV = {
  NODE_ENV: 'development',
  LOG_LEVEL: 'silent',
  // Never connected to: building the app and its document runs no query.
  DATABASE_URL: 'postgres://openapi@127.0.0.1:9/openapi',
  UNDER_PRESSURE_ENABLED: 'false',
};

async function openApiText(): Promise<string> {
  const config = loadConfig(FIXED_ENV);
  const database = openPostgres(config.DATABASE_URL!, 1);
  const app = await buildApp(config, { db: database.db, logger: false });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await database.close();
  }
}

async function main(): Promise<number> {
  const check = process.argv.slice(2).includes('--check');
  const text = await openApiText();
  if (!check) {
    writeFileSync(OPENAPI_FILE, text);
    process.stdout.write(`wrote ${OPENAPI_FILE} (${Buffer.byteLength(text)} bytes)\n`);
    return 0;
  }
  let committed = '';
  try {
    committed = readFileSync(OPENAPI_FILE, 'utf8');
  } catch {
    // missing: differs
  }
  if (committed === text) {
    process.stdout.write('openapi.json is up to date\n');
    return 0;
  }
  process.stderr.write('openapi.json differs from the document the sources give: run `npm run openapi` and review the diff\n');
  return 1;
}

runCommand('openapi', main, usage);
