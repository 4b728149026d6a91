import { randomUUID } from 'node:crypto';
import { checkAccountNumber } from '../../core/bank.js';
import { decideBankAccountVendor } from '../../core/catalog.js';
import { authorizeRead, authorizeWrite, isAdmin, type Actor } from '../../core/policy.js';
import type { AppContext } from '../context.js';
import { mapUniqueViolation } from '../db-errors.js';
import { seal } from '../encryption.js';
import { keysetPage, oldestFirst, toPage, type Page } from '../pagination.js';
import { failure, unwrap } from '../../core/errors.js';
import {
  bankAccountsListQuery,
  deleteBankAccount,
  findBankAccountById,
  findBankAccountByVendorId,
  insertBankAccount,
  updateBankAccount,
  type OwnedBankAccount,
} from '../repos/bank-accounts.js';
import { findVendorById, findVendorByUserId } from '../repos/vendors.js';
import { bankAccountView, type BankAccount } from '../shapes/bank-accounts.js';
import { inSerializableTx } from '../tx.js';

/**
 * A vendor's payout account, one per vendor. The account number is encrypted at rest (shell/encryption)
 * and never leaves the server again: responses carry only its last four characters. Nobody but the
 * owning vendor and admins can see an account, so other callers get 404 (never 403).
 */

export interface NewBankAccountInput {
  account_name: string;
  account_number: string;
  bank_name: string;
  bank_code: string;
  vendor_id?: string | undefined;
}

export type BankAccountChanges = Partial<Omit<NewBankAccountInput, 'vendor_id'>>;

const accountExists = () => failure({ type: 'bank_account_exists', detail: 'This vendor already has a bank account' });
const notFound = () => failure({ type: 'not_found', detail: 'No such bank account' });

// Never visible to anyone but the owner and admins.
const ownership = (account: OwnedBankAccount) => ({ ownerUserId: account.owner_user_id, visibleToOthers: false });

export async function createBankAccount(ctx: AppContext, actor: Actor, input: NewBankAccountInput): Promise<BankAccount> {
  const { accountNumber, last4 } = unwrap(checkAccountNumber(input.account_number));
  const sealed = seal(ctx.config, accountNumber);
  const id = randomUUID();
  const now = ctx.now();
  const created = await mapUniqueViolation(accountExists, () =>
    inSerializableTx(ctx.db, async (trx) => {
      const own = actor.role === 'vendor' ? await findVendorByUserId(trx, actor.id) : undefined;
      const named = isAdmin(actor) && input.vendor_id !== undefined ? await findVendorById(trx, input.vendor_id) : undefined;
      const vendorId = unwrap(decideBankAccountVendor(actor, { vendorId: input.vendor_id }, { vendorId: own?.id ?? null }, { exists: named !== undefined }));
      if (await findBankAccountByVendorId(trx, vendorId)) throw accountExists();
      return insertBankAccount(trx, {
        id,
        vendor_id: vendorId,
        account_name: input.account_name,
        bank_name: input.bank_name,
        bank_code: input.bank_code,
        account_number_ciphertext: sealed.ciphertext,
        account_number_key_id: sealed.keyId,
        account_number_last4: last4,
        created_at: now,
        updated_at: now,
      });
    }),
  );
  return bankAccountView(created);
}

/** A vendor lists their own (at most one), an admin everyone's; oldest first. */
export async function listBankAccounts(ctx: AppContext, listUrl: string, actor: Actor, query: { limit: number; cursor?: string | undefined }): Promise<Page<BankAccount>> {
  let vendorId: string | null = null;
  if (!isAdmin(actor)) {
    const own = await findVendorByUserId(ctx.db, actor.id);
    // No profile yet: an id no vendor has, so the list is empty but pages and cursors behave as usual.
    vendorId = own?.id ?? '00000000-0000-0000-0000-000000000000';
  }
  const page = await keysetPage(ctx.paginator, bankAccountsListQuery(ctx.db, { vendorId }), oldestFirst('created_at', query));
  return toPage(listUrl, page, bankAccountView);
}

export async function getBankAccount(ctx: AppContext, actor: Actor, id: string): Promise<BankAccount> {
  const account = await findBankAccountById(ctx.db, id);
  if (!account) throw notFound();
  unwrap(authorizeRead(actor, ownership(account)));
  return bankAccountView(account);
}

/** Any field may change; a new account number is encrypted under the current key. */
export async function changeBankAccount(ctx: AppContext, actor: Actor, id: string, changes: BankAccountChanges): Promise<BankAccount> {
  const number = changes.account_number !== undefined ? unwrap(checkAccountNumber(changes.account_number)) : null;
  const sealed = number ? seal(ctx.config, number.accountNumber) : null;
  const now = ctx.now();
  const updated = await inSerializableTx(ctx.db, async (trx) => {
    const account = await findBankAccountById(trx, id);
    if (!account) throw notFound();
    unwrap(authorizeWrite(actor, ownership(account)));
    return updateBankAccount(trx, id, {
      ...(changes.account_name !== undefined ? { account_name: changes.account_name } : {}),
      ...(changes.bank_name !== undefined ? { bank_name: changes.bank_name } : {}),
      ...(changes.bank_code !== undefined ? { bank_code: changes.bank_code } : {}),
      ...(sealed && number
        ? { account_number_ciphertext: sealed.ciphertext, account_number_key_id: sealed.keyId, account_number_last4: number.last4 }
        : {}),
      updated_at: now,
    });
  });
  return bankAccountView(updated);
}

/** A hard delete: nothing references a bank account (payouts are not recorded against it). */
export async function removeBankAccount(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  await inSerializableTx(ctx.db, async (trx) => {
    const account = await findBankAccountById(trx, id);
    if (!account) throw notFound();
    unwrap(authorizeWrite(actor, ownership(account)));
    await deleteBankAccount(trx, id);
  });
}
