import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_users.js';
import * as m0002 from './0002_catalog.js';
import * as m0003 from './0003_commerce.js';
import * as m0004 from './0004_payments.js';
import * as m0005 from './0005_money_bounds.js';
import * as m0006 from './0006_outbox_notifications.js';
import * as m0007 from './0007_checkout_statuses.js';
import * as m0008 from './0008_job_indexes.js';
import * as m0009 from './0009_refunds.js';
import * as m0010 from './0010_image_keys.js';
import * as m0011 from './0011_hot_order_updates.js';

// Migrations are listed here (not discovered on disk) so the same list runs from sources under tsx,
// from dist/ after a build, and in the embedded database. Names sort in the order they apply.
const migrations: Record<string, Migration> = {
  '0001_users': m0001,
  '0002_catalog': m0002,
  '0003_commerce': m0003,
  '0004_payments': m0004,
  '0005_money_bounds': m0005,
  '0006_outbox_notifications': m0006,
  '0007_checkout_statuses': m0007,
  '0008_job_indexes': m0008,
  '0009_refunds': m0009,
  '0010_image_keys': m0010,
  '0011_hot_order_updates': m0011,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
