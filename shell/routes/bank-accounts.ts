import { z } from 'zod';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, errors, idParams, problem } from '../http/schemas.js';
import { changeBankAccount, createBankAccount, getBankAccount, listBankAccounts, removeBankAccount } from '../services/bank-accounts.js';
import { bankAccountSchema } from '../shapes/bank-accounts.js';
import { text, uuidInput } from '../shapes/common.js';

const accountName = text().trim().min(1).max(200);
const accountNumber = text().regex(/^[A-Za-z0-9]{6,34}$/, 'must be 6 to 34 letters and digits').describe('6–34 letters and digits; stored encrypted');
const bankName = text().trim().min(1).max(200);
const bankCode = text().trim().min(1).max(50);

export const bankAccountsRoutes: RoutePlugin = (app, ctx) => {
  const vendorOrAdmin = app.requireRole('vendor', 'admin');

  app.post('/bank-accounts/', {
    schema: {
      summary: "Add the vendor's bank account (one per vendor; admins name the vendor with vendor_id)",
      description:
        'The account number is stored encrypted and never answered (only its last four characters). A vendor without a vendor profile is 403; ' +
        'an admin must send an existing vendor_id (else 400 validation_failed at vendor_id). A second account for a vendor is 409 bank_account_exists.',
      operationId: 'createBankAccount',
      tags: ['bank-accounts'],
      security: bearer,
      body: z
        .strictObject({
          account_name: accountName,
          account_number: accountNumber,
          bank_name: bankName,
          bank_code: bankCode,
          vendor_id: uuidInput().optional().describe('Admins only'),
        })
        .meta({ examples: [{ account_name: 'Lagos Lamps Ltd', account_number: '0123456789', bank_name: 'First Bank of Nigeria', bank_code: '011' }] }),
      response: { 201: bankAccountSchema.describe('The new bank account'), ...errors(400, 401, 403, 503), 409: problem(['bank_account_exists']) },
    },
    onRequest: vendorOrAdmin,
    handler: async (request, reply) => reply.code(201).send(await createBankAccount(ctx, caller(request), request.body)),
  });

  app.get('/bank-accounts/', {
    schema: {
      summary: "List bank accounts (a vendor's own; admins: all)",
      description: 'Oldest first, cursor-paginated. A vendor has at most one.',
      operationId: 'listBankAccounts',
      tags: ['bank-accounts'],
      security: bearer,
      querystring: z.object({ ...pageQuery }),
      response: { 200: pageSchema(bankAccountSchema).describe('A page of bank accounts'), ...errors(400, 401, 403) },
    },
    onRequest: vendorOrAdmin,
    handler: async (request) => listBankAccounts(ctx, listUrl(request, ctx.config.PUBLIC_URL), caller(request), request.query),
  });

  app.get('/bank-accounts/:id/', {
    schema: {
      summary: 'Get a bank account (owner vendor or admin)',
      description: 'Only the last four characters of the account number are answered.',
      operationId: 'getBankAccount',
      tags: ['bank-accounts'],
      security: bearer,
      params: idParams,
      response: { 200: bankAccountSchema.describe('The bank account'), ...errors(400, 401, 403, 404) },
    },
    onRequest: vendorOrAdmin,
    handler: async (request) => getBankAccount(ctx, caller(request), request.params.id),
  });

  app.patch('/bank-accounts/:id/', {
    schema: {
      summary: 'Update a bank account (owner vendor or admin); a new account number is re-encrypted',
      description: 'Only the fields sent change; a new account number is encrypted under the current key.',
      operationId: 'updateBankAccount',
      tags: ['bank-accounts'],
      security: bearer,
      params: idParams,
      body: z
        .strictObject({
          account_name: accountName.optional(),
          account_number: accountNumber.optional(),
          bank_name: bankName.optional(),
          bank_code: bankCode.optional(),
        })
        .meta({ examples: [{ account_number: '9876543210', bank_name: 'Access Bank', bank_code: '044' }] }),
      response: { 200: bankAccountSchema.describe('The bank account as changed'), ...errors(400, 401, 403, 404, 503) },
    },
    onRequest: vendorOrAdmin,
    handler: async (request) => changeBankAccount(ctx, caller(request), request.params.id, request.body),
  });

  app.delete('/bank-accounts/:id/', {
    schema: {
      summary: 'Delete a bank account (owner vendor or admin)',
      description: 'The account is removed for good (nothing refers to it); the vendor may then add another.',
      operationId: 'deleteBankAccount',
      tags: ['bank-accounts'],
      security: bearer,
      params: idParams,
      response: { 204: z.null().describe('Deleted'), ...errors(400, 401, 403, 404, 503) },
    },
    onRequest: vendorOrAdmin,
    handler: async (request, reply) => {
      await removeBankAccount(ctx, caller(request), request.params.id);
      return reply.code(204).send(null);
    },
  });
};
