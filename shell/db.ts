import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  PostgresDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type KyselyConfig,
  type PostgresDialectConfig,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import type { Database, DB } from '../db/database.js';
import { migrationProvider } from '../db/migrations/index.js';

export type DatabaseKind = 'postgres' | 'embedded';

export interface DatabaseHandle {
  db: DB;
  kind: DatabaseKind;
  /** Where the data lives, for log lines (never includes a password). */
  location: string;
  close(): Promise<void>;
}

const INT8_OID = 20;
// Money, order numbers and counts are bigint columns; every value we store fits in 2^53.
pg.types.setTypeParser(INT8_OID, (value: string) => Number(value));

/**
 * SERIALIZABLE transactions (shell/tx.ts) read through indexes only: a sequential scan predicate-locks
 * the whole table, so on a small table every concurrent transaction would conflict with every other.
 * enable_seqscan is turned off for the transaction in the same round trip as its BEGIN (one simple-protocol
 * query with two statements), instead of a SET LOCAL of its own in every transaction.
 */
class IndexScanSerializableDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel !== 'serializable' || settings.accessMode !== undefined) return super.beginTransaction(connection, settings);
    await connection.executeQuery(CompiledQuery.raw('start transaction isolation level serializable; set local enable_seqscan = off'));
  }
}

class NexusPostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new IndexScanSerializableDriver(this.#config);
  }
}

/**
 * `log` sees every query Kysely runs (and every error): the bench counts queries and serialization
 * retries with it, tests count queries per request. Production passes none.
 */
export function openPostgres(url: string, poolSize = 20, log?: KyselyConfig['log']): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new NexusPostgresDialect({ pool }), ...(log ? { log } : {}) });
  const parsed = new URL(url);
  return {
    db,
    kind: 'postgres',
    location: `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`,
    close: () => db.destroy(),
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded database is a directory only one process may open: a second one (a seed or create-admin
 * while the server runs) would corrupt it. A lock file holding the owner's pid refuses the second
 * process with a clear message; a lock left by a process that died is taken over.
 */
function lockDataDir(dir: string): () => void {
  const lockPath = resolve(dir, 'nexus.lock');
  for (;;) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new Error(`the embedded database in ${dir} is in use by process ${owner}; stop that process first, or set DATABASE_URL`, { cause: error });
      }
      rmSync(lockPath, { force: true });
    }
  }
}

export async function openEmbedded(dataDir: string): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { PGliteDialect } = await import('kysely-pglite-dialect');
  const dir = resolve(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDir(resolve(dataDir));
  try {
    const client = await PGlite.create(dir, {
      extensions: { pg_trgm },
      parsers: { [INT8_OID]: (value: string) => Number(value) },
    });
    const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
    return {
      db,
      kind: 'embedded',
      location: dir,
      close: async () => {
        await db.destroy();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

export async function openDatabase(config: { DATABASE_URL?: string | undefined; DATA_DIR: string; DATABASE_POOL_SIZE?: number }): Promise<DatabaseHandle> {
  return config.DATABASE_URL ? openPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE) : openEmbedded(config.DATA_DIR);
}

export function migrator(db: DB): Migrator {
  return new Migrator({ db, provider: migrationProvider });
}

export async function pendingMigrations(db: DB): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: DB): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return applied;
}

export async function pingDatabase(db: DB): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
