import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openEmbedded } from '../../shell/db.js';

// The embedded database (PGlite) used by `npm start` without DATABASE_URL: same migrations, data kept
// across restarts, and never opened by two processes at once.
describe('embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nexus-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs the same migrations and keeps its data after being closed and reopened', async () => {
    const first = await openEmbedded(dataDir);
    await migrateToLatest(first.db);
    const now = new Date();
    await first.db
      .insertInto('users')
      .values({ id: '11111111-1111-4111-8111-111111111111', email: 'kept@example.test', password_hash: 'x', role: 'customer', created_at: now, updated_at: now })
      .execute();
    await first.close();
    expect(existsSync(join(dataDir, 'nexus.lock'))).toBe(false);

    const again = await openEmbedded(dataDir);
    try {
      expect(await migrateToLatest(again.db)).toEqual([]);
      const { rows } = await sql<{ email: string }>`SELECT email FROM users`.execute(again.db);
      expect(rows).toEqual([{ email: 'kept@example.test' }]);
    } finally {
      await again.close();
    }
  });

  it('refuses to open a data directory another live process holds, and takes over a dead one', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dataDir, 'nexus.lock'), String(holder.pid));
      await expect(openEmbedded(dataDir)).rejects.toThrow(`in use by process ${holder.pid}`);
    } finally {
      holder.kill();
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    // The holder is gone: its stale lock is taken over.
    const handle = await openEmbedded(dataDir);
    await handle.close();
  });
});
