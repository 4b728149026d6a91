import { randomUUID } from 'node:crypto';
import { decideVendorOwner } from '../../core/catalog.js';
import { authorizeFields, authorizeRead, authorizeWrite, isAdmin, type Actor } from '../../core/policy.js';
import type { VendorRow } from '../../db/database.js';
import type { AppContext } from '../context.js';
import { mapUniqueViolation } from '../db-errors.js';
import { keysetPage, oldestFirst, toPage, type Page } from '../pagination.js';
import { failure, unwrap } from '../../core/errors.js';
import { findUserRole, findVendorById, findVendorByUserId, insertVendor, updateVendor, vendorsListQuery } from '../repos/vendors.js';
import { vendorView, type Vendor } from '../shapes/vendors.js';
import { inSerializableTx } from '../tx.js';

/**
 * Vendor profiles. A profile is public while active; once deactivated (DELETE) only its owner and admins
 * see it, and its products leave the public catalog (catalog reads join on vendors.is_active), while
 * orders keep their lines.
 */

export interface NewVendorInput {
  business_name: string;
  description?: string | undefined;
  support_email?: string | null | undefined;
  user_id?: string | undefined;
}

export interface VendorChanges {
  business_name?: string | undefined;
  description?: string | undefined;
  support_email?: string | null | undefined;
  is_active?: boolean | undefined;
}

const vendorExists = () => failure({ type: 'vendor_exists', detail: 'This user already has a vendor profile' });

const ownership = (vendor: VendorRow) => ({ ownerUserId: vendor.user_id, visibleToOthers: vendor.is_active });

export async function createVendor(ctx: AppContext, actor: Actor, input: NewVendorInput): Promise<Vendor> {
  const id = randomUUID();
  const now = ctx.now();
  // Two concurrent first profiles: the unique index on user_id decides.
  const created = await mapUniqueViolation(vendorExists, () =>
    inSerializableTx(ctx.db, async (trx) => {
      const target = isAdmin(actor) && input.user_id !== undefined ? await findUserRole(trx, input.user_id) : undefined;
      const userId = unwrap(decideVendorOwner(actor, { userId: input.user_id }, target ? { exists: true, role: target.role } : null));
      if (await findVendorByUserId(trx, userId)) throw vendorExists();
      return insertVendor(trx, {
        id,
        user_id: userId,
        business_name: input.business_name,
        description: input.description ?? '',
        support_email: input.support_email ?? null,
        is_active: true,
        created_at: now,
        updated_at: now,
      });
    }),
  );
  return vendorView(created);
}

export async function getVendor(ctx: AppContext, actor: Actor | null, id: string): Promise<Vendor> {
  const vendor = await findVendorById(ctx.db, id);
  if (!vendor) throw failure({ type: 'not_found', detail: 'No such vendor' });
  unwrap(authorizeRead(actor, ownership(vendor)));
  return vendorView(vendor);
}

/** The public list holds active vendors; admins also see deactivated ones. Oldest first. */
export async function listVendors(ctx: AppContext, listUrl: string, actor: Actor | null, query: { limit: number; cursor?: string | undefined }): Promise<Page<Vendor>> {
  const page = await keysetPage(ctx.paginator, vendorsListQuery(ctx.db, { includeInactive: isAdmin(actor) }), oldestFirst('created_at', query));
  return toPage(listUrl, page, vendorView);
}

export async function changeVendor(ctx: AppContext, actor: Actor, id: string, changes: VendorChanges): Promise<Vendor> {
  const now = ctx.now();
  const sent = Object.keys(changes).filter((k) => changes[k as keyof VendorChanges] !== undefined);
  const updated = await inSerializableTx(ctx.db, async (trx) => {
    const vendor = await findVendorById(trx, id);
    if (!vendor) throw failure({ type: 'not_found', detail: 'No such vendor' });
    unwrap(authorizeWrite(actor, ownership(vendor)));
    unwrap(authorizeFields(actor, sent, ['is_active']));
    if (sent.length === 0) return vendor;
    return updateVendor(trx, id, {
      ...(changes.business_name !== undefined ? { business_name: changes.business_name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.support_email !== undefined ? { support_email: changes.support_email } : {}),
      ...(changes.is_active !== undefined ? { is_active: changes.is_active } : {}),
      updated_at: now,
    });
  });
  // The vendor's name and activity show in catalog reads.
  await ctx.cache.bump('products');
  return vendorView(updated);
}

/** DELETE: deactivates (idempotently); nothing is removed, so orders and products stay intact. */
export async function deactivateVendor(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  const now = ctx.now();
  await inSerializableTx(ctx.db, async (trx) => {
    const vendor = await findVendorById(trx, id);
    if (!vendor) throw failure({ type: 'not_found', detail: 'No such vendor' });
    unwrap(authorizeWrite(actor, ownership(vendor)));
    if (vendor.is_active) await updateVendor(trx, id, { is_active: false, updated_at: now });
  });
  await ctx.cache.bump('products');
}
