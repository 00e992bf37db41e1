import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AzureNamedKeyCredential, TableClient, type TableServiceClientOptions, type TransactionAction } from '@azure/data-tables';
import { appliedCreateIn, parseBatch } from '../../bench/floor';

/**
 * The floor's template capture (test/bench/floor.ts appliedCreateIn) on commit bodies serialized by
 * @azure/data-tables itself: the SDK's request is captured by an HTTP client that answers 400, so no
 * storage is involved.
 */

type HttpClient = NonNullable<TableServiceClientOptions['httpClient']>;

/** The `$batch` body the SDK sends for these actions. */
async function batchBody(actions: TransactionAction[]): Promise<string> {
  let body = '';
  const httpClient: HttpClient = {
    sendRequest: (request) => {
      // The SDK sends a batch's body as one string.
      if (typeof request.body === 'string') body = request.body;
      return Promise.resolve({ status: 400, headers: request.headers, request, bodyAsText: '{}' });
    },
  };
  const client = new TableClient(
    'http://127.0.0.1:10002/devstoreaccount1',
    'directory',
    new AzureNamedKeyCredential('devstoreaccount1', 'a2V5'),
    {
      allowInsecureConnection: true,
      httpClient,
      retryOptions: { maxRetries: 0 },
    },
  );
  await client.submitTransaction(actions).catch(() => undefined);
  if (!body) throw new Error('the SDK sent no batch');
  return body;
}

const PK = 'default';
const MAX_SEQUENCE = 999_999_999_999_999;
const inverted = (n: number) => String(MAX_SEQUENCE - n).padStart(15, '0');
const outboxKey = (n: number) => `outbox|${String(n).padStart(15, '0')}`;
const ACCEPTED = '998204289529767';

/** The actions one applied create's commit writes, as TableDirectory.commit orders them (the head left out). */
function createActions(id: string, user: string, sequence: number): TransactionAction[] {
  const sipAddress = `sip:e${user}@contoso.com`;
  const poolFqdn = `${user}.contoso.com`;
  const record = { id, request: { operation: 'create', sipAddress, poolFqdn }, status: 'applied', auditSequence: sequence, ticket: 1 };
  const row = (rowKey: string, value: unknown, columns: Record<string, unknown> = {}) => ({
    partitionKey: PK,
    rowKey,
    data: JSON.stringify(value),
    ...columns,
  });
  const crix = ['all', 'actor|e2e-all', 'status|applied', `address|contoso.com|e${user}`, 'operation|create'];
  const audit = [
    `audit|${inverted(sequence)}`,
    `auditsub|${encodeURIComponent(sipAddress)}|${inverted(sequence)}`,
    ...['actor|e2e-all', 'type|endpoint.create', 'outcome|applied', `changeRequest|${id}`, `correlation|c-${user}`].map(
      (index) => `auditix|${index}|${inverted(sequence)}`,
    ),
  ];
  return [
    ['upsert', row(`address|contoso.com|e${user}`, { sipAddress, poolFqdn }), 'Replace'],
    ['upsert', row(`pool|${poolFqdn}`, { fqdn: poolFqdn }), 'Replace'],
    ['upsert', row(`cr|${id}`, record, { status: 'applied' }), 'Replace'],
    ...crix.map((index): TransactionAction => ['upsert', row(`crix|${index}|${ACCEPTED}|${id}`, record, { status: 'applied' }), 'Replace']),
    ['delete', { partitionKey: PK, rowKey: `crix|status|accepted|${ACCEPTED}|${id}` }],
    ['delete', { partitionKey: PK, rowKey: `pending|contoso.com|e${user}|000000000000001` }],
    ...audit.map((rowKey): TransactionAction => ['create', row(rowKey, { sequence })]),
    ['create', row(outboxKey(sequence), { sequence })],
  ];
}

const head: TransactionAction = ['update', { partitionKey: PK, rowKey: 'head', data: '{"sequence":8}' }, 'Replace', { etag: 'W/"1"' }];
const A = '01a218af-4858-72d1-80f1-5b71be04a069';
const B = '01a218af-4858-72d1-80f1-5b71be04a06a';

describe('appliedCreateIn', () => {
  it("takes a one-change commit whole: the head and the change's 18 rows", async () => {
    const actions = parseBatch(await batchBody([head, ...createActions(A, 'abc001', 7)]));

    const change = appliedCreateIn(actions);

    assert.equal(change?.actions.length, 19);
    assert.deepEqual(
      change?.actions.map((a) => a.rowKey),
      actions.map((a) => a.rowKey),
    );
    assert.equal(change?.id, A);
    assert.equal(change?.user, 'abc001');
    assert.equal(change?.sequence, 7);
  });

  it('takes from a many-change commit the first change alone, without the other change nor earlier outbox deletes', async () => {
    const deletes: TransactionAction[] = [5, 6].map((n) => ['delete', { partitionKey: PK, rowKey: outboxKey(n) }]);
    const actions = parseBatch(await batchBody([head, ...createActions(A, 'abc001', 7), ...createActions(B, 'abc002', 8), ...deletes]));
    assert.equal(actions.length, 1 + 18 + 18 + 2);

    const change = appliedCreateIn(actions);

    assert.deepEqual(
      change?.actions.map((a) => `${a.method} ${a.rowKey}`),
      [
        'PUT head',
        'PUT address|contoso.com|eabc001',
        'PUT pool|abc001.contoso.com',
        `PUT cr|${A}`,
        `PUT crix|all|${ACCEPTED}|${A}`,
        `PUT crix|actor|e2e-all|${ACCEPTED}|${A}`,
        `PUT crix|status|applied|${ACCEPTED}|${A}`,
        `PUT crix|address|contoso.com|eabc001|${ACCEPTED}|${A}`,
        `PUT crix|operation|create|${ACCEPTED}|${A}`,
        `DELETE crix|status|accepted|${ACCEPTED}|${A}`,
        'DELETE pending|contoso.com|eabc001|000000000000001',
        `POST audit|${inverted(7)}`,
        `POST auditsub|sip%3Aeabc001%40contoso.com|${inverted(7)}`,
        `POST auditix|actor|e2e-all|${inverted(7)}`,
        `POST auditix|type|endpoint.create|${inverted(7)}`,
        `POST auditix|outcome|applied|${inverted(7)}`,
        `POST auditix|changeRequest|${A}|${inverted(7)}`,
        `POST auditix|correlation|c-abc001|${inverted(7)}`,
        'POST outbox|000000000000007',
      ],
    );
    assert.equal(change?.sequence, 7);
  });

  it('finds no change in a commit that applied no create', async () => {
    const actions = parseBatch(await batchBody([head, ['delete', { partitionKey: PK, rowKey: outboxKey(5) }]]));

    assert.equal(appliedCreateIn(actions), undefined);
  });
});
