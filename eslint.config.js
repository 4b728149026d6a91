// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// core/ is the functional core: no I/O, no framework, no clock, no randomness, no environment.
const forbiddenInCore = [
  'fastify',
  '@fastify/*',
  'fastify-*',
  'kysely',
  'kysely-*',
  'pg',
  '@electric-sql/*',
  'ioredis',
  'bullmq',
  'cloudinary',
  'node:*',
  ...builtinModules.filter((m) => !m.startsWith('_')),
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', performance: 'readonly', fetch: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // CommonJS config files (.dependency-cruiser.cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: forbiddenInCore, message: 'core/ is pure: do the I/O in shell/ and pass plain data in.' },
            // core/ is flat: `./x.js` stays inside it, `../anything` leaves it (shell/, db/, scripts/, tests/).
            { regex: '^\\.\\.(/|$)', message: 'core/ imports only core/: pass what you need from shell/ or db/ in as plain data.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'core/ reads no environment: take the value as an argument.' },
        { name: 'fetch', message: 'core/ does no I/O.' },
        { name: 'setTimeout', message: 'core/ has no timers.' },
        { name: 'crypto', message: 'core/ takes ids and random values as arguments.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'core/ has no clock: take `now` as an argument.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core/ has no clock: take `now` as an argument.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'core/ has no randomness: take random values as arguments.' },
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'core/ reads no environment: take the value as an argument.' },
        { selector: "ImportExpression", message: 'core/ imports nothing dynamically.' },
      ],
    },
  },
);
