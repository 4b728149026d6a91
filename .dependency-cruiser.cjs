// Layering rules for Nexus (see STYLE.md, "The shell"). Run by `npm run lint` (lint:deps).
// Paths are regular expressions over repo-relative paths; npm packages resolve to node_modules/<name>/…
// and node builtins to their bare name (`fs`, `node:crypto`).

/** Fastify itself, its official plugins and community `fastify-*` packages. */
const FASTIFY = '^node_modules/(fastify|@fastify/[^/]+|fastify-[^/]+)/';

/** Layers below the HTTP edge: they serve routes, jobs, scripts and tests alike. */
const BELOW_THE_EDGE = '^(shell/services/|shell/repos/|shell/tx\\.ts$|shell/jobs/|scripts/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles are forbidden, type-only ones included (tsPreCompilationDeps: true makes ' +
        '`import type` count): a cycle means two modules are one module in disguise. Break it by ' +
        'moving the shared piece down a layer (often into core/).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'This import does not resolve to a file or an installed package (typo, missing .ts file, or missing dependency).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment:
        'core/ is the functional core: it imports only other core/ files. No npm packages, no node ' +
        'builtins, nothing from shell/, db/ or scripts/. Do the I/O in shell/ and pass plain data in.',
      from: { path: '^core/' },
      to: { pathNot: '^core/' },
    },
    {
      name: 'no-fastify-below-routes',
      severity: 'error',
      comment:
        'Services, repos, tx.ts, jobs and scripts do not see Fastify (fastify, @fastify/*, fastify-*): ' +
        'the route turns the request into plain values and passes those down, so a job, a script or a ' +
        'test calls the same service with no request at all.',
      // scripts/bench/ measures a bare Fastify route as a baseline: the framework is what it compares against.
      from: { path: BELOW_THE_EDGE, pathNot: '^scripts/bench/' },
      to: { path: FASTIFY },
    },
    {
      name: 'no-http-below-routes',
      severity: 'error',
      comment:
        'Services, repos, tx.ts, jobs and scripts import nothing from shell/http/: they return or throw ' +
        'domain errors (core/errors.ts) and one plugin in shell/http/ maps them to problem+json.',
      from: { path: BELOW_THE_EDGE },
      to: { path: '^shell/http/' },
    },
    {
      name: 'http-only-from-the-edge',
      severity: 'error',
      comment:
        'shell/http/ is the HTTP edge: only shell/http/, shell/routes/, shell/app.ts, shell/server.ts, ' +
        'shell/context.ts and tests/ may import it. (Services, repos, tx.ts, jobs and scripts are ' +
        'reported by no-http-below-routes instead, so each wrong arrow is reported once.)',
      from: {
        pathNot: [
          '^(shell/http/|shell/routes/|shell/app\\.ts$|shell/server\\.ts$|shell/context\\.ts$|tests/)',
          BELOW_THE_EDGE,
        ],
      },
      to: { path: '^shell/http/' },
    },
    {
      name: 'routes-not-to-repos',
      severity: 'error',
      comment: 'A route calls one service function; it never loads or writes state through a repo itself.',
      from: { path: '^shell/routes/' },
      to: { path: '^shell/repos/' },
    },
    {
      name: 'repos-not-to-services',
      severity: 'error',
      comment: 'Repos are the bottom of the shell: services call repos, never the other way round.',
      from: { path: '^shell/repos/' },
      to: { path: '^shell/services/' },
    },
    {
      name: 'repos-not-to-routes',
      severity: 'error',
      comment: 'Repos are the bottom of the shell: they know nothing about routes.',
      from: { path: '^shell/repos/' },
      to: { path: '^shell/routes/' },
    },
    {
      name: 'services-not-to-routes',
      severity: 'error',
      comment: 'Routes call services, never the other way round.',
      from: { path: '^shell/services/' },
      to: { path: '^shell/routes/' },
    },
    {
      name: 'db-imports-only-db-and-core',
      severity: 'error',
      comment:
        'db/ (schema types and migrations) imports only db/, core/ and the kysely package it is written ' +
        'in; never shell/, scripts/ or tests/, and no node builtins.',
      from: { path: '^db/' },
      to: { pathNot: '^(db/|core/|node_modules/kysely/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Count `import type` too, so type-only cycles and type-only layer breaks are caught.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      // ESM TypeScript with NodeNext: `../core/order.js` means `core/order.ts`. dependency-cruiser
      // maps a .js specifier to its .ts source itself (its schema has no extensionAlias); these
      // settings make bare npm names resolve through package.json "exports" like Node/tsc do.
      extensions: ['.ts', '.js', '.d.ts'],
      exportsFields: ['exports'],
      conditionNames: ['types', 'import', 'node', 'default'],
      mainFields: ['types', 'typings', 'module', 'main'],
    },
    reporterOptions: {},
  },
};
