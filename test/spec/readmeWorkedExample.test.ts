import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { workedExample, workedExampleValues } from '../../scripts/auditSpecExample';
import { verifyExport } from './independentVerifier';

const README = path.resolve(__dirname, '..', '..', '..', 'README.md');

describe("the README's worked example (Verifying the audit log yourself)", () => {
  it('is exactly what scripts/auditSpecExample.ts computes with the service’s own code', () => {
    const readme = readFileSync(README, 'utf8');
    const shown = /<!-- worked-example:start -->\n([\s\S]*?)\n<!-- worked-example:end -->/.exec(readme)?.[1];
    assert.equal(shown, workedExample(), 'regenerate it: node dist/scripts/auditSpecExample.js');
  });

  it('verifies with the verifier written from the README alone', () => {
    const { record, checkpoint, jwk } = workedExampleValues();
    assert.deepEqual(verifyExport(`${JSON.stringify(record)}\n`, JSON.stringify(checkpoint), JSON.stringify({ keys: [jwk] })), []);
    const edited = { ...record, subject: 'sip:other@contoso.com' };
    assert.deepEqual(verifyExport(JSON.stringify(edited), JSON.stringify(checkpoint), JSON.stringify({ keys: [jwk] })), [
      { sequence: 1, what: 'content does not hash to its hash' },
    ]);
  });
});
