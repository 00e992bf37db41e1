import { createPrivateKey, sign } from 'node:crypto';
import { appendToChain, canonicalJson, GENESIS_HEAD, type AuditDraft } from '../shared/domain/audit';
import { checkpointStatement, unsignedCheckpoint, type AuditCheckpoint } from '../shared/domain/auditVerification';
import { jwkOf } from '../shared/domain/jwk';
import { thumbprintKey } from '../shared/domain/signingKeys';

/**
 * The README's worked example ("Verifying the audit log yourself"), computed by the service's own
 * code from a fixed test key and a fixed record. `node dist/scripts/auditSpecExample.js` prints
 * it; test/spec/readmeWorkedExample.test.ts checks the README holds exactly this text, so the
 * README cannot drift from what the service does. (Ed25519 signatures are deterministic.)
 */

/** The test key's 32-byte Ed25519 seed: bytes 1 to 32. A published test key: it signs nothing real. */
export const EXAMPLE_SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));

/** PKCS #8 DER of an Ed25519 private key is this prefix followed by the 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const EXAMPLE_DRAFT: AuditDraft = {
  id: '0b5e7e7c-3f0a-4c1e-9a51-6d1f1c2b7a10',
  actor: 'admin@contoso.com',
  action: 'endpoint.created',
  subject: 'sip:persistentchat@contoso.com',
  changeRequestId: '6f9d2c4e-8b7a-4f3e-a1d2-c3b4a5968778',
  correlationId: '6f9d2c4e-8b7a-4f3e-a1d2-c3b4a5968778',
  causationId: null,
  outcome: { status: 'applied' },
  before: null,
  after: { sipAddress: 'sip:persistentchat@contoso.com', poolFqdn: 'pcpool.contoso.com', displayName: 'Salle de réunion' },
};

/** The example's values: the record, its canonical JSON and hash, the checkpoint, its statement and signature, the key. */
export function workedExampleValues() {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, EXAMPLE_SEED]), format: 'der', type: 'pkcs8' });
  const key = thumbprintKey(privateKey);
  if (!key) throw new Error('the example key is not an Ed25519 key');
  const { records, head } = appendToChain(GENESIS_HEAD, [EXAMPLE_DRAFT], new Date('2026-11-02T09:30:00.000Z'));
  const record = records[0];
  if (!record) throw new Error('no record');
  const { hash: _hash, ...content } = record;
  const unsigned = unsignedCheckpoint(head, '2026-11-02T09:35:00.000Z', key);
  const statement = checkpointStatement(unsigned);
  const checkpoint: AuditCheckpoint = { ...unsigned, signature: sign(null, statement, privateKey).toString('base64') };
  return { record, canonical: canonicalJson(content), checkpoint, statement: statement.toString('utf8'), jwk: jwkOf(key) };
}

/** The worked example as the README shows it (Markdown). */
export function workedExample(): string {
  const { record, canonical, checkpoint, statement, jwk } = workedExampleValues();
  return [
    `The test key: the Ed25519 seed \`${EXAMPLE_SEED.toString('hex')}\` (hex; a published test key). Its public JWK, as the keys file holds it:`,
    '',
    '```json',
    JSON.stringify({ keys: [jwk] }),
    '```',
    '',
    'Record 1, one line of the export (`GET /api/audit?format=ndjson`):',
    '',
    '```json',
    JSON.stringify(record),
    '```',
    '',
    'Its canonical JSON without `hash` (the bytes hashed; note the keys in order and `é` as itself, not escaped):',
    '',
    '```json',
    canonical,
    '```',
    '',
    `SHA-256 of those UTF-8 bytes, in lowercase hex, is the record's \`hash\`: \`${record.hash}\`. Its \`previousHash\` is the genesis hash (64 zeros), since it is record 1.`,
    '',
    'A checkpoint of the log at that record:',
    '',
    '```json',
    JSON.stringify(checkpoint),
    '```',
    '',
    'The statement it signs (two lines: the tag, then the JSON array; no newline at the end):',
    '',
    '```text',
    statement,
    '```',
    '',
    `The Ed25519 signature of the statement's UTF-8 bytes with the key whose \`kid\` is \`${String(checkpoint.keyId)}\`, in base64, is the checkpoint's \`signature\`.`,
  ].join('\n');
}

if (require.main === module) console.log(workedExample());
