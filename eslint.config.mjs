// ESLint flat config: typescript-eslint (type-aware), Prettier owns formatting, and the
// architecture's dependency rule as `boundaries/dependencies` (eslint-plugin-boundaries).
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import boundaries from 'eslint-plugin-boundaries';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// ---------------------------------------------------------------------------------------------
// The dependency rule (README, "How it is built"). Each layer is a folder; a file's imports are
// checked against what its layer may import. An import no policy allows is an error.
// ---------------------------------------------------------------------------------------------
// @azure/identity: the credentials of identity-based connections, built in shared/composition/clients.ts;
// @azure/keyvault-keys: checkpoint signing through Key Vault (an adapter);
// @azure/storage-blob: the blob witness of audit checkpoints (an adapter; its client built in clients.ts);
// the OpenTelemetry packages: the telemetry switch (composition) and the tracing adapter.
const SDKS = [
  '@azure/data-tables',
  '@azure/storage-queue',
  '@azure/storage-blob',
  '@azure/service-bus',
  '@azure/identity',
  '@azure/keyvault-keys',
  '@azure/monitor-opentelemetry',
  '@opentelemetry/api',
];

const layer = (type, pattern) => ({ type, pattern, partialMatch: false });
const ELEMENTS = [
  layer('domain', 'shared/domain'),
  layer('application', 'shared/application'),
  layer('adapters', 'shared/adapters'),
  layer('entrypoints', 'shared/entrypoints'),
  layer('composition', 'shared/composition'),
  layer('local', 'shared/local'),
  layer('functions', 'functions'),
  layer('cli', 'cli'),
];

// shared/settings.ts is one file, not a folder: it is classified by a file descriptor. So is
// shared/names.json, the deployment's names that infra/ reads too.
const FILES = [
  { category: 'settings', pattern: 'shared/settings.ts' },
  { category: 'names', pattern: 'shared/names.json' },
];

const to = (...types) => ({ to: { element: { types } } });
const toSettings = { to: { file: { categories: 'settings' } } };
const toNames = { to: { file: { categories: 'names' } } };
const pkg = (...sources) => ({ to: { module: { origin: 'external', source: sources } } });
const ANYTHING = { dependency: { kind: '*' } };
const nodeBuiltins = { to: { module: { origin: 'core' } } };
const nodeCrypto = { to: { module: { origin: 'core', source: ['node:crypto', 'crypto'] } } };

/** What each layer may import; the message names the rule and lists what is allowed. */
const LAYER_RULES = [
  {
    from: 'domain',
    folder: 'shared/domain',
    allows: 'shared/domain, zod, node:crypto',
    allow: [to('domain'), pkg('zod'), nodeCrypto],
  },
  {
    from: 'application',
    folder: 'shared/application',
    allows: 'shared/domain, shared/application, zod, node:crypto',
    allow: [to('domain', 'application'), pkg('zod'), nodeCrypto],
  },
  {
    from: 'adapters',
    folder: 'shared/adapters',
    allows: `shared/domain, shared/application, shared/adapters, node builtins, ${SDKS.join(', ')}`,
    allow: [to('domain', 'application', 'adapters'), nodeBuiltins, pkg(...SDKS)],
  },
  {
    from: 'entrypoints',
    folder: 'shared/entrypoints',
    allows: 'shared/domain, shared/application, shared/entrypoints, zod, node builtins',
    allow: [to('domain', 'application', 'entrypoints'), pkg('zod'), nodeBuiltins],
  },
  {
    from: 'composition',
    folder: 'shared/composition (the composition root)',
    allows: `anything under shared/ except shared/local, node builtins, ${SDKS.join(', ')}`,
    allow: [to('domain', 'application', 'adapters', 'entrypoints', 'composition'), toSettings, nodeBuiltins, pkg(...SDKS)],
  },
  {
    from: 'settings',
    folder: 'shared/settings.ts',
    allows: 'shared/domain, shared/application, shared/names.json, zod',
    allow: [to('domain', 'application'), toNames, pkg('zod')],
  },
  {
    from: 'functions',
    folder: 'functions/',
    allows: '@azure/functions, shared/composition, shared/entrypoints, shared/settings.ts',
    allow: [to('composition', 'entrypoints'), toSettings, pkg('@azure/functions')],
  },
  {
    // The command line is an HTTP client of the app: it never composes or touches storage.
    from: 'cli',
    folder: 'cli/ (the pchat command line, an HTTP client)',
    allows: 'cli/, shared/domain (pure rules), node builtins, commander',
    allow: [to('cli', 'domain'), nodeBuiltins, pkg('commander')],
  },
  {
    from: 'local',
    folder: 'shared/local (the local Functions host)',
    allows: `anything; ${SDKS.join(', ')} only as \`import type\` (clients come from the composition root)`,
    // Anything at all (elements, files outside them, packages, builtins)...
    allow: [ANYTHING],
    // ...except a runtime import of a storage/messaging SDK.
    disallow: [{ ...pkg(...SDKS), dependency: { kind: 'value' } }],
  },
];

const dependencyPolicies = LAYER_RULES.flatMap(({ from, folder, allows, allow, disallow }) => {
  const source = from === 'settings' ? { file: { categories: 'settings' } } : { element: { type: from } };
  const message = `Dependency rule: ${folder} may not import '{{dependency.source}}'. It may import ${allows}.`;
  return [
    // Everything is refused with this layer's message (a policy carries its own message)...
    { from: source, disallow: ANYTHING, message },
    // ...unless this layer's allow list lets it through (the last matching policy wins)...
    { from: source, allow },
    // ...and an explicit refusal wins over the allow list.
    ...(disallow ? [{ from: source, disallow, message }] : []),
  ];
});

const dependencyRule = {
  files: ['functions/**/*.ts', 'shared/**/*.{ts,mts}', 'cli/**/*.ts'],
  plugins: { boundaries },
  settings: {
    'boundaries/elements': ELEMENTS,
    'boundaries/files': FILES,
    'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import', 'require'],
    // Relative imports without extensions (`../domain/audit` -> .ts), and `.mjs` -> `.mts`.
    'import/resolver': { typescript: { project: `${import.meta.dirname}/tsconfig.json` } },
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'disallow',
        message: "Dependency rule: '{{dependency.source}}' is not allowed here.",
        checkAllOrigins: true,
        checkUnknownLocals: true,
        policies: dependencyPolicies,
      },
    ],
    // Every file under shared/ and functions/ belongs to a layer, or the rule could not see it.
    'boundaries/no-unknown-files': 'error',
  },
};

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', '.azurite/', 'coverage/', 'test-results/']),

  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Promises: a dropped or misused promise is a lost error or an unordered write. (These are
      // in recommendedTypeChecked already; they are listed because they are why we lint.)
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // An async function without await is how this code turns a synchronous throw into a
      // rejection (adapters implementing Promise-returning ports): require-await would flag
      // exactly those.
      '@typescript-eslint/require-await': 'off',
      // (The opposite check, promise-function-async, flagged only one-line delegations such as
      // `(x) => bus.send(x)`; it stays off.)
      // `return promise` inside try/catch skips the catch: the commit/retry paths rely on it.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A new union member (an outcome, a rejection code, a transport) must be handled everywhere;
      // a `default:` does not count as handling it.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: true },
      ],
      // `require('x') as typeof import('x')` is how the SDKs are loaded lazily: allow the annotation.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // `const { schemaVersion: _version, ...request } = message` drops a property on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests read JSON bodies (`await response.json()` is `any`) and poke at SDK and process
    // internals: the no-unsafe-* family would flag every such line and find nothing.
    files: ['test/**/*.ts'],
    rules: {
      // node:test's describe/it return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Everything runs on Node...
    ignores: ['**/*.client.mts'],
    languageOptions: { globals: globals.node },
  },
  {
    // ...except the review page's browser script, an ES module loaded by the page.
    files: ['shared/entrypoints/http/**/*.client.mts'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  {
    // This file and any other plain JavaScript: not in tsconfig, so no type information.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },

  {
    // The independent verifier is written only from the README's specification, as an outside
    // auditor would write it: it may import node:crypto and node:fs, nothing of the app.
    files: ['test/spec/independentVerifier.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!node:(crypto|fs)$)', message: 'The independent verifier imports only node:crypto and node:fs.' }] },
      ],
    },
  },

  dependencyRule,

  prettier,
);
