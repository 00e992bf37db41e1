import { randomUUID } from 'node:crypto';
import { TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';

/**
 * The floor: the storage work of applying a create, done directly with @azure/data-tables and
 * @azure/storage-queue, no service code, as a skilled engineer would.
 *
 * Rows: the floor does not rebuild the service's entities from shared/; it replays the service's
 * own commit. The bench records (through the counting proxy) the `$batch` body of one create the
 * service applied, and the floor sends, for each change, the same actions with the same property
 * names, types and values: only the change request id, the address's user part and the audit
 * sequence (in keys, same width) are substituted, so every row is the same size. That commit is,
 * as TableDirectory.commit builds it: the head row replaced under its ETag, the endpoint's address
 * row, the change request row and its crix| index rows (and the delete of its row in the
 * `accepted` listing), the pending row's delete, the audit row with its auditsub|/auditix| rows,
 * and the outbox row. The rows a commit deletes are put in place at enqueue time, from the
 * service's rows before its apply, so the deletes find them.
 *
 * Receiving: as shared/local/storageQueueTriggers.ts does: receive up to 16 messages with a lease
 * (visibility timeout 30 s), decode each (base64 JSON, as the service encodes it), commit, delete
 * the message; commits are serialized in the process (one at a time), deletes overlap the next commit.
 *
 * Left out: deciding anything (no reads at all: the floor knows the address is free and the head's
 * ETag from its own last commit); the lease renewal timer (no commit here lasts 15 s); poison
 * handling and retries (no commit fails); publishing the outbox (the service's outbox publisher is
 * a timer; its work is counted on the service's side only); the admission's rows beyond those the
 * apply deletes (enqueue writes the pending row and the `accepted` listing row, then sends).
 */

const MAX_SEQUENCE = 999_999_999_999_999;
const padded = (n: number) => String(n).padStart(15, '0');
const inverted = (n: number) => padded(MAX_SEQUENCE - n);
const MAX_ACTIONS = 100;

/** One action of a recorded batch, as text (substituted per change, then parsed). */
export interface RecordedAction {
  method: string;
  rowKey: string;
  ifMatch: string | undefined;
  body: string;
}

/** What the floor replays: the service's commit for one change, and the rows before it. */
export interface FloorTemplate {
  id: string;
  user: string;
  sequence: number;
  actions: RecordedAction[];
  /** Rows (by row key) that the commit deletes, as they stood before it: typed entities (see entityFromTyped), as JSON. */
  deletedRows: Record<string, string>;
  /** The head row as it stood (typed entity JSON), to create a fresh partition's head. */
  head: string;
  /** A queue message the service received (for another change of the same shape): its text, and that change's id and user. */
  message: { text: string; id: string; user: string };
}

/** An entity read with disableTypeConversion ({ value, type } per property), as JSON, back into an entity to write. */
export function entityFromTyped(json: string, partitionKey: string, rowKey: string): TableEntity {
  const typed = JSON.parse(json) as Record<string, unknown>;
  const entity: TableEntity<Record<string, unknown>> = { partitionKey, rowKey };
  for (const [name, value] of Object.entries(typed)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.metadata'].includes(name)) continue;
    entity[name] = value;
  }
  return entity;
}

/** Splits a table `$batch` body into its actions. */
export function parseBatch(body: string): RecordedAction[] {
  const parts = body.split(/\r?\n--changeset_[^\r\n]*/).slice(1);
  const actions: RecordedAction[] = [];
  for (const part of parts) {
    const request = /^(POST|PUT|PATCH|MERGE|DELETE) (\S+) HTTP\/1\.1$/m.exec(part);
    if (!request) continue;
    const [, method = '', url = ''] = request;
    const afterRequest = part.slice((request.index ?? 0) + request[0].length);
    const blank = afterRequest.search(/\r?\n\r?\n/);
    const headers = blank < 0 ? afterRequest : afterRequest.slice(0, blank);
    const rest = blank < 0 ? '' : afterRequest.slice(blank).trim();
    const ifMatch = /^If-Match:\s*(.+?)\s*$/im.exec(headers)?.[1];
    const keyInUrl = /RowKey='((?:[^']|'')*)'/.exec(decodeURIComponent(url))?.[1]?.replace(/''/g, "'");
    const rowKey = keyInUrl ?? (JSON.parse(rest) as { RowKey: string }).RowKey;
    actions.push({ method, rowKey, ifMatch, body: rest });
  }
  return actions;
}

/** One applied create as a recorded commit carries it: its id, its user (after the address's `e`), its audit sequence, its actions. */
export interface RecordedChange {
  id: string;
  user: string;
  sequence: number;
  actions: RecordedAction[];
}

/** Whether a recorded action writes a change request row that settles a create as applied. */
function writesAppliedCreate(action: RecordedAction): boolean {
  if (action.method === 'DELETE' || !action.rowKey.startsWith('cr|')) return false;
  const row = JSON.parse(action.body) as { status?: unknown; data?: unknown };
  if (row.status !== 'applied' || typeof row.data !== 'string') return false;
  return (JSON.parse(row.data) as { request?: { operation?: unknown } }).request?.operation === 'create';
}

/**
 * The first applied create in a recorded commit, with only its own actions: the head update, then
 * in the commit's order its cr|<id> row, the crix| rows ending with its id, its address| and pool|
 * rows, its pending| row, the audit rows at its inverted sequence and its outbox|<sequence> row.
 * A commit may carry several changes and the deletes of outbox rows published earlier; the other
 * changes' rows and those deletes are left out, so the floor replays one change's work. Undefined
 * when the commit applied no create (or lacks a row every applied create writes).
 */
export function appliedCreateIn(actions: RecordedAction[]): RecordedChange | undefined {
  const head = actions.find((action) => action.rowKey === 'head' && action.method !== 'DELETE');
  const changeRequest = actions.find(writesAppliedCreate);
  if (!head || !changeRequest) return undefined;
  const id = changeRequest.rowKey.slice('cr|'.length);
  const record = JSON.parse((JSON.parse(changeRequest.body) as { data: string }).data) as {
    request: { poolFqdn: string };
    auditSequence: number | null;
  };
  // `crix|address|<domain>|<user>|<inverted time>|<id>`: the address's key parts, as its other rows spell them.
  const addressIndex = actions.find((action) => action.rowKey.startsWith('crix|address|') && action.rowKey.endsWith(`|${id}`));
  const [, , domain, user] = addressIndex?.rowKey.split('|') ?? [];
  const sequence = record.auditSequence;
  if (!domain || !user || sequence === null) return undefined;
  const sequenceSuffix = `|${inverted(sequence)}`;
  const own = (action: RecordedAction) =>
    action === head ||
    action === changeRequest ||
    (action.rowKey.startsWith('crix|') && action.rowKey.endsWith(`|${id}`)) ||
    action.rowKey === `address|${domain}|${user}` ||
    action.rowKey === `pool|${encodeURIComponent(record.request.poolFqdn)}` ||
    action.rowKey.startsWith(`pending|${domain}|${user}|`) ||
    (/^audit(sub|ix)?\|/.test(action.rowKey) && action.rowKey.endsWith(sequenceSuffix)) ||
    (action.rowKey === `outbox|${padded(sequence)}` && action.method !== 'DELETE');
  const mine = actions.filter(own);
  if (
    !mine.some((action) => action.rowKey === `address|${domain}|${user}`) ||
    !mine.some((action) => action.rowKey === `audit${sequenceSuffix}`)
  )
    return undefined;
  return { id, user: user.slice(1), sequence, actions: mine };
}

/** An entity as the wire has it (JSON with `@odata.type` annotations) as @azure/data-tables takes it. */
export function entityFromWire(json: string, partitionKey: string): TableEntity {
  const wire = JSON.parse(json) as Record<string, unknown>;
  const entity: TableEntity<Record<string, unknown>> = { partitionKey, rowKey: String(wire.RowKey) };
  for (const [name, value] of Object.entries(wire)) {
    if (name.includes('@') || name.startsWith('odata.') || ['PartitionKey', 'RowKey', 'Timestamp'].includes(name)) continue;
    const type = wire[`${name}@odata.type`];
    entity[name] = typeof type === 'string' ? { value: String(value), type: type.replace(/^Edm\./, '') } : value;
  }
  return entity;
}

/** The template's text with one change's id, user and sequence in place of the template's (all the same width). */
function substitute(
  template: { id: string; user: string; sequence: number },
  text: string,
  change: { id: string; user: string },
  sequence: number,
): string {
  return text
    .split(template.id)
    .join(change.id)
    .split(template.user)
    .join(change.user)
    .split(inverted(template.sequence))
    .join(inverted(sequence))
    .split(`outbox|${padded(template.sequence)}`)
    .join(`outbox|${padded(sequence)}`);
}

/** How many of the template's changes fit in one transaction (at most 100 actions) with one head update. */
export function changesPerTransaction(template: FloorTemplate): number {
  return Math.max(1, Math.floor((MAX_ACTIONS - 1) / (template.actions.length - 1)));
}

/** A change the floor handles: a fresh id, and a user part as wide as the template's. */
export interface FloorChange {
  id: string;
  user: string;
}

/** The floor over one table partition and one queue. */
export class Floor {
  private etag = '';
  private sequence: number;
  private readonly byId = new Map<string, FloorChange>();

  constructor(
    private readonly template: FloorTemplate,
    private readonly table: TableClient,
    private readonly queue: QueueClient,
    private readonly partition: string,
  ) {
    this.sequence = template.sequence + 1_000;
  }

  static create(template: FloorTemplate, connectionString: string, tableName: string, queueName: string, partition: string): Floor {
    return new Floor(
      template,
      TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true }),
      new QueueClient(connectionString, queueName),
      partition,
    );
  }

  /** Creates the table, the queue and this partition's head row (not timed). */
  async setUp(): Promise<void> {
    await this.table.createTable();
    await this.queue.createIfNotExists();
    const head = entityFromTyped(this.template.head, this.partition, 'head');
    const created = await this.table.createEntity(head);
    this.etag = created.etag ?? '';
  }

  /** New changes, each with a user part as wide as the template's. */
  changes(count: number, tag: string): FloorChange[] {
    return Array.from({ length: count }, (_, i) => {
      const suffix = `${tag}${i}`;
      const user = this.template.user.slice(0, Math.max(0, this.template.user.length - suffix.length)) + suffix;
      const change = { id: randomUUID(), user: user.slice(-this.template.user.length) };
      this.byId.set(change.id, change);
      return change;
    });
  }

  /** What admission leaves for the apply: the rows its commit deletes, and the message. */
  async enqueue(change: FloorChange): Promise<void> {
    await this.prepare(change);
    await this.send(change);
  }

  /** The rows the apply's commit deletes (the pending row, the request's row in the `accepted` listing). */
  async prepare(change: FloorChange): Promise<void> {
    const rows = Object.entries(this.template.deletedRows).map(([rowKey, json]): TransactionAction => [
      'create',
      entityFromTyped(substitute(this.template, json, change, 0), this.partition, substitute(this.template, rowKey, change, 0)),
    ]);
    if (rows.length) await this.table.submitTransaction(rows);
  }

  /** The change's queue message, as the service's admission encodes it. */
  async send(change: FloorChange): Promise<void> {
    const { message } = this.template;
    const decoded = Buffer.from(message.text, 'base64').toString('utf8');
    const text = Buffer.from(substitute({ ...message, sequence: -1 }, decoded, change, -1), 'utf8').toString('base64');
    await this.queue.sendMessage(text);
  }

  /** One change's actions at a sequence, its head action first. */
  private actionsOf(change: FloorChange, sequence: number): TransactionAction[] {
    return this.template.actions.map((action): TransactionAction => {
      const body = substitute(this.template, action.body, change, sequence);
      const rowKey = substitute(this.template, action.rowKey, change, sequence);
      if (action.method === 'DELETE') return ['delete', { partitionKey: this.partition, rowKey }];
      const entity = { ...entityFromWire(body, this.partition), rowKey };
      if (action.method === 'POST') return ['create', entity];
      const mode = action.method === 'PUT' ? 'Replace' : 'Merge';
      if (action.rowKey === 'head') return ['update', entity, mode, { etag: this.etag }];
      return action.ifMatch ? ['update', entity, mode] : ['upsert', entity, mode];
    });
  }

  /** One transaction for these changes (one head update), guarded by the head's ETag. */
  private async commit(changes: FloorChange[]): Promise<void> {
    const perChange = changes.map((change) => this.actionsOf(change, ++this.sequence));
    const heads = perChange.map((actions) => actions.filter(([, entity]) => entity.rowKey === 'head'));
    const rest = perChange.flatMap((actions) => actions.filter(([, entity]) => entity.rowKey !== 'head'));
    const head = heads[heads.length - 1] ?? [];
    const response = await this.table.submitTransaction([...head, ...rest]);
    // The head goes first; an update's sub-response carries its new ETag (but no row key).
    const etag = response.subResponses[0]?.etag;
    if (!etag) throw new Error('the commit answered without the head ETag');
    this.etag = etag;
  }

  /** How many changes fit in one transaction with one head update. */
  perTransaction(): number {
    return changesPerTransaction(this.template);
  }

  /**
   * Applies `count` queued changes: receives as the service's host does, commits one change per
   * transaction (or up to perTransaction() with `grouped`), serialized, and deletes each message after its commit.
   */
  async apply(count: number, grouped: boolean): Promise<void> {
    let applied = 0;
    let chain: Promise<void> = Promise.resolve();
    const deletes: Array<Promise<unknown>> = [];
    while (applied < count) {
      const { receivedMessageItems } = await this.queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 30 });
      if (receivedMessageItems.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const received = receivedMessageItems.map((message) => ({ message, change: this.changeIn(message.messageText) }));
      const size = grouped ? this.perTransaction() : 1;
      const groups = Array.from({ length: Math.ceil(received.length / size) }, (_, i) => received.slice(i * size, (i + 1) * size));
      for (const group of groups) {
        chain = chain.then(async () => {
          await this.commit(group.map((g) => g.change));
          for (const { message } of group) deletes.push(this.queue.deleteMessage(message.messageId, message.popReceipt));
        });
      }
      await chain;
      applied += received.length;
    }
    await Promise.all(deletes);
  }

  /** The change a message names: decoded as the service decodes it, its request id looked up. */
  private changeIn(text: string): FloorChange {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    JSON.parse(decoded);
    for (const match of decoded.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)) {
      const change = this.byId.get(match[0]);
      if (change) return change;
    }
    throw new Error('a message for no change of the floor');
  }
}
