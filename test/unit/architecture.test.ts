import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

/**
 * The dependency rule is the architecture (DESIGN.md): the domain imports nothing outward, only
 * adapters import the storage and messaging SDKs, and only functions/ and the local host import
 * @azure/functions. This test is the lint rule that keeps it so.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const full = path.join(directory, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:from\s+|require\(|import\()\s*['"]([^'"]+)['"]/g)].map((match) => match[1] as string);
}

const SDKS = ['@azure/data-tables', '@azure/service-bus', '@azure/storage-queue'];

function violations(folder: string, allowed: (specifier: string, file: string) => boolean): string[] {
  return sourceFiles(path.join(ROOT, folder)).flatMap((file) =>
    importsOf(file).filter((specifier) => !allowed(specifier, file)).map((specifier) => `${path.relative(ROOT, file)} imports ${specifier}`));
}

const resolvesInto = (file: string, specifier: string, folder: string) =>
  specifier.startsWith('.') && path.resolve(path.dirname(file), specifier).startsWith(path.join(ROOT, folder));

describe('the dependency rule', () => {
  it('keeps shared/domain free of I/O, SDKs and outer layers', () => {
    const found = violations('shared/domain', (specifier, file) =>
      specifier === 'zod' || specifier === 'node:crypto' || resolvesInto(file, specifier, 'shared/domain'));
    assert.deepEqual(found, []);
  });

  it('lets shared/application import only the domain and itself', () => {
    const found = violations('shared/application', (specifier, file) =>
      specifier === 'zod' || specifier === 'node:crypto' || resolvesInto(file, specifier, 'shared/domain') || resolvesInto(file, specifier, 'shared/application'));
    assert.deepEqual(found, []);
  });

  it('confines the Azure SDKs to shared/adapters, the composition root and the local host', () => {
    const found = ['functions', 'shared/domain', 'shared/application', 'shared/entrypoints'].flatMap((folder) =>
      violations(folder, (specifier) => !SDKS.includes(specifier)));
    assert.deepEqual(found, []);
  });

  it('confines @azure/functions to functions/ and the local host', () => {
    const found = ['shared/domain', 'shared/application', 'shared/adapters', 'shared/entrypoints'].flatMap((folder) =>
      violations(folder, (specifier) => specifier !== '@azure/functions'));
    assert.deepEqual(found, []);
  });

  it('keeps functions/ thin: each file imports only @azure/functions and shared/ entrypoints or config', () => {
    const found = violations('functions', (specifier) =>
      specifier === '@azure/functions' || specifier.startsWith('../shared/entrypoints/') || specifier === '../shared/settings' || specifier === '../shared/composition/functionBindings');
    assert.deepEqual(found, []);
  });
});
