import path from 'node:path';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

/**
 * The dependency rule is the architecture (README, "How it is built"): the domain imports nothing
 * outward, only adapters and the composition root import the storage and messaging SDKs, and only
 * functions/ and the local host import @azure/functions. It is the lint rule
 * `boundaries/dependencies` in eslint.config.mjs; this test lints small snippets as if they were
 * files of each layer, through ESLint's Node API with the repository's own config, and checks that
 * the rule reports each forbidden import (with a message naming the rule) and none of the allowed
 * ones. The snippets import real files, so an allowed relative import also proves that
 * extensionless specifiers (`../domain/errors` -> .ts) resolve.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const RULE = 'boundaries/dependencies';

let eslint: ESLint;

before(() => {
  eslint = new ESLint({
    cwd: ROOT,
    // The snippets are not files of the TypeScript program, so no type information: only the
    // boundaries rules run, with the syntax-only parser settings.
    overrideConfig: [tseslint.configs.disableTypeChecked],
    ruleFilter: ({ ruleId }) => ruleId.startsWith('boundaries/'),
  });
});

async function lint(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  assert.ok(result, `no lint result for ${file}`);
  const fatal = result.messages.filter((message) => message.fatal);
  assert.deepEqual(fatal, [], `${file} did not parse`);
  return result.messages;
}

interface Layer {
  /** A file in the layer (it need not exist; its folder decides its layer). */
  file: string;
  /** Import statements the rule lets through. */
  allowed: string[];
  /** Import statements the rule reports. */
  forbidden: string[];
}

// Relative specifiers from a file directly in shared/<layer>/.
const DOMAIN = "import { ValidationError } from '../domain/errors';";
const APPLICATION = "import type { MessageBus } from '../application/ports/messageBus';";
const ADAPTERS = "import { systemClock } from '../adapters/system';";
const ENTRYPOINTS = "import { problemForError } from '../entrypoints/http/problems';";
const COMPOSITION = "import { createTableClient } from '../composition/clients';";
const LOCAL = "import { parseSchedule } from '../local/ncrontab';";
const SETTINGS = "import { parseSettings } from '../settings';";
const ZOD = "import { z } from 'zod';";
const CRYPTO = "import { randomUUID } from 'node:crypto';";
const FS = "import { readFileSync } from 'node:fs';";
const TABLES = "import { TableClient } from '@azure/data-tables';";
const QUEUES = "import { QueueClient } from '@azure/storage-queue';";
const SERVICE_BUS = "import { ServiceBusClient } from '@azure/service-bus';";
const FUNCTIONS = "import { app } from '@azure/functions';";
const OTHER_PACKAGE = "import { parse } from 'yaml';";

const LAYERS: Layer[] = [
  {
    file: 'shared/domain/newRule.ts',
    allowed: [DOMAIN, "import { SipAddressSchema } from './names';", ZOD, CRYPTO],
    forbidden: [
      APPLICATION,
      ADAPTERS,
      ENTRYPOINTS,
      COMPOSITION,
      LOCAL,
      SETTINGS,
      FS,
      TABLES,
      QUEUES,
      SERVICE_BUS,
      FUNCTIONS,
      OTHER_PACKAGE,
      // Every way of importing is checked, not only `import` declarations.
      "export { TableClient } from '@azure/data-tables';",
      "export async function load() { return import('@azure/service-bus'); }",
      "export const sdk = require('@azure/storage-queue');",
      // A type-only import is still an import of the outer layer.
      "import type { TableClient } from '@azure/data-tables';",
    ],
  },
  {
    file: 'shared/application/newUseCase.ts',
    allowed: [DOMAIN, APPLICATION, "import type { MessageBus } from './ports/messageBus';", ZOD, CRYPTO],
    forbidden: [ADAPTERS, ENTRYPOINTS, COMPOSITION, LOCAL, SETTINGS, FS, TABLES, QUEUES, SERVICE_BUS, FUNCTIONS],
  },
  {
    file: 'shared/adapters/newAdapter.ts',
    allowed: [DOMAIN, APPLICATION, ADAPTERS, "import { systemClock } from './system';", CRYPTO, FS, TABLES, QUEUES, SERVICE_BUS],
    forbidden: [ENTRYPOINTS, COMPOSITION, LOCAL, SETTINGS, FUNCTIONS, OTHER_PACKAGE],
  },
  {
    file: 'shared/adapters/tables/NewStore.ts',
    allowed: ["import { ValidationError } from '../../domain/errors';", "import { rowKeys } from './rowKeys';", TABLES],
    forbidden: ["import { problemForError } from '../../entrypoints/http/problems';", FUNCTIONS],
  },
  {
    file: 'shared/entrypoints/newHttp.ts',
    allowed: [DOMAIN, APPLICATION, ENTRYPOINTS, "import { problemForError } from './http/problems';", ZOD, CRYPTO, FS],
    forbidden: [
      ADAPTERS,
      COMPOSITION,
      LOCAL,
      SETTINGS,
      TABLES,
      QUEUES,
      SERVICE_BUS,
      FUNCTIONS,
      "import { openTableStore } from '../adapters/tables/tableStore';",
    ],
  },
  {
    // The review page's browser script.
    file: 'shared/entrypoints/http/reviewPage.client.mts',
    allowed: [
      "import type { AuditRecord } from '../../domain/audit';",
      // An ES module names the compiled file; the resolver maps it back to the source (.js -> .ts).
      "import type { AuditRecord } from '../../domain/audit.js';",
      "import { ValidationError } from '../../domain/errors.js';",
    ],
    forbidden: ["import { createTableClient } from '../../composition/clients.js';", FUNCTIONS],
  },
  {
    file: 'shared/composition/newRoot.ts',
    allowed: [DOMAIN, APPLICATION, ADAPTERS, ENTRYPOINTS, COMPOSITION, SETTINGS, CRYPTO, TABLES, QUEUES, SERVICE_BUS],
    forbidden: [LOCAL, FUNCTIONS, OTHER_PACKAGE],
  },
  {
    file: 'shared/settings.ts',
    allowed: ["import { ValidationError } from './domain/errors';", "import { nextRedriveAt } from './application/deliveryPolicy';", ZOD],
    forbidden: [
      "import { systemClock } from './adapters/system';",
      "import { problemForError } from './entrypoints/http/problems';",
      "import { createTableClient } from './composition/clients';",
      FS,
      TABLES,
      FUNCTIONS,
    ],
  },
  {
    file: 'functions/newFunction.ts',
    allowed: [
      FUNCTIONS,
      "import { problemForError } from '../shared/entrypoints/http/problems';",
      "import { createTableClient } from '../shared/composition/clients';",
      "import { parseSettings } from '../shared/settings';",
    ],
    forbidden: [
      "import { ValidationError } from '../shared/domain/errors';",
      "import type { MessageBus } from '../shared/application/ports/messageBus';",
      "import { systemClock } from '../shared/adapters/system';",
      "import { parseSchedule } from '../shared/local/ncrontab';",
      "import { openTableStore } from '../shared/adapters/tables/tableStore';",
      TABLES,
      QUEUES,
      SERVICE_BUS,
      ZOD,
      FS,
    ],
  },
  {
    // The command line is an HTTP client: pure domain rules at most, never the app's insides.
    file: 'cli/newCommand.ts',
    allowed: [
      "import { Command } from 'commander';",
      "import { wildcardPatternProblem } from '../shared/domain/wildcard';",
      "import { runPchat } from './program';",
      FS,
      CRYPTO,
    ],
    forbidden: [
      "import { compose } from '../shared/composition/compose';",
      "import { systemClock } from '../shared/adapters/system';",
      "import { problemForError } from '../shared/entrypoints/http/problems';",
      "import { parseSettings } from '../shared/settings';",
      TABLES,
      ZOD,
    ],
  },
  {
    file: 'shared/local/newHost.ts',
    allowed: [
      DOMAIN,
      APPLICATION,
      ADAPTERS,
      ENTRYPOINTS,
      COMPOSITION,
      LOCAL,
      SETTINGS,
      FUNCTIONS,
      FS,
      CRYPTO,
      ZOD,
      "import { compose } from '../composition/compose';",
      "import { getTopology } from '../../functions/getTopology';",
      // The local host gets its SDK clients from the composition root; it may name their types.
      "import type { TableClient } from '@azure/data-tables';",
      "import type { QueueServiceClient } from '@azure/storage-queue';",
      "import type { ServiceBusClient } from '@azure/service-bus';",
    ],
    forbidden: [TABLES, QUEUES, SERVICE_BUS, "import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';"],
  },
];

describe('the dependency rule (boundaries/dependencies in eslint.config.mjs)', () => {
  for (const layer of LAYERS) {
    describe(layer.file, () => {
      for (const statement of layer.forbidden) {
        it(`reports: ${statement}`, async () => {
          const messages = await lint(layer.file, `${statement}\n`);
          const reported = messages.filter((message) => message.ruleId === RULE);
          assert.equal(reported.length, 1, `expected one ${RULE} report, got ${JSON.stringify(messages)}`);
          const [message] = reported as [Linter.LintMessage];
          assert.match(message.message, /^Dependency rule: /);
          const source = /['"]([^'"]+)['"]/.exec(statement)?.[1] as string;
          assert.ok(message.message.includes(`'${source}'`), `the message names the import: ${message.message}`);
          assert.equal(message.severity, 2);
        });
      }
      for (const statement of layer.allowed) {
        it(`allows: ${statement}`, async () => {
          const messages = await lint(layer.file, `${statement}\n`);
          assert.deepEqual(
            messages.filter((message) => message.ruleId?.startsWith('boundaries/')),
            [],
          );
        });
      }
    });
  }

  it('names what the layer may import', async () => {
    const [message] = await lint('shared/domain/newRule.ts', `${TABLES}\n`);
    assert.equal(
      message?.message,
      "Dependency rule: shared/domain may not import '@azure/data-tables'. It may import shared/domain, zod, node:crypto.",
    );
  });

  it('reports a file under shared/ that belongs to no layer, which the rule could not check', async () => {
    const messages = await lint('shared/helpers.ts', `${TABLES}\n`);
    assert.deepEqual(
      messages.map((message) => message.ruleId),
      ['boundaries/no-unknown-files'],
    );
  });

  it('leaves test/ and scripts/ free to import anything', async () => {
    for (const file of ['test/unit/newTest.test.ts', 'scripts/newScript.ts']) {
      const messages = await lint(file, `${TABLES}\n${FUNCTIONS}\nimport { systemClock } from '../../shared/adapters/system';\n`);
      assert.deepEqual(
        messages.filter((message) => message.ruleId?.startsWith('boundaries/')),
        [],
        file,
      );
    }
  });
});
