import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyLocalSettings } from '../../../shared/local/localSettings';

const folders: string[] = [];

/** An app root holding `local.settings.json` with this text (or none). */
function anAppRoot(text?: string): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'local-settings-'));
  folders.push(folder);
  if (text !== undefined) writeFileSync(path.join(folder, 'local.settings.json'), text);
  return folder;
}

describe('applyLocalSettings (local.settings.json, as func start reads it)', () => {
  after(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('sets each of Values that the environment does not already set, and says which', () => {
    const env: NodeJS.ProcessEnv = { PORT: '8080' };
    const root = anAppRoot(JSON.stringify({ IsEncrypted: false, Values: { AUTH_MODE: 'off', PORT: '9999', SUBMISSION_RATE_LIMIT: '10' } }));

    const applied = applyLocalSettings(root, env);

    assert.deepEqual(applied, ['AUTH_MODE', 'SUBMISSION_RATE_LIMIT']);
    assert.deepEqual(env, { PORT: '8080', AUTH_MODE: 'off', SUBMISSION_RATE_LIMIT: '10' }, 'the environment wins');
  });

  it('does nothing without the file, or with a file without Values', () => {
    const env: NodeJS.ProcessEnv = {};
    assert.deepEqual(applyLocalSettings(anAppRoot(), env), []);
    assert.deepEqual(applyLocalSettings(anAppRoot('{"IsEncrypted":false}'), env), []);
    assert.deepEqual(env, {});
  });

  it('refuses, naming the file and the rule, a file that is not JSON, is encrypted, or holds a value that is not a string', () => {
    const refusal = (text: string) => {
      const root = anAppRoot(text);
      try {
        applyLocalSettings(root, {});
      } catch (error) {
        return (error as Error).message.replace(root, '<root>');
      }
      return 'accepted';
    };

    assert.match(refusal('{"Values":'), /^<root>\/local\.settings\.json: is not JSON/);
    assert.equal(refusal('[]'), '<root>/local.settings.json: must be a JSON object');
    assert.equal(
      refusal('{"IsEncrypted":true,"Values":{"A":"x"}}'),
      '<root>/local.settings.json: IsEncrypted is true; decrypt it (func settings decrypt) or set the values in plain text',
    );
    assert.equal(
      refusal('{"Values":{"PORT":7071,"A":"x","B":null}}'),
      '<root>/local.settings.json: Values.PORT, Values.B must be strings, as app settings are',
    );
  });

  it('reads the example the repository ships', () => {
    const env: NodeJS.ProcessEnv = {};
    const example = path.resolve(__dirname, '..', '..', '..', '..', 'local.settings.example.json');
    const root = anAppRoot(readFileSync(example, 'utf8'));

    assert.ok(applyLocalSettings(root, env).includes('AUTH_MODE'));
    assert.equal(env.AUTH_MODE, 'keys');
  });
});
