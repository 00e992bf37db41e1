/**
 * The review page's browser script. An ES module (.mts compiles to .mjs, no CommonJS wrapper), so its
 * names stay out of the window's globals (`status` is one) and tsc checks it against the DOM lib.
 * It imports nothing: the handler inlines the compiled text under the response's CSP nonce.
 */

/** What an audit record's outcome says (the API's AuditOutcome). */
type Outcome = { status: 'applied' } | { status: 'rejected' | 'failed'; code: string; message: string };

/** The fields of an audit record the table shows. */
interface AuditRecord {
  sequence: number;
  time: string;
  actor: string;
  action: string;
  subject: string;
  outcome: Outcome;
  changeRequestId: string | null;
  correlationId: string;
}

/** A page of GET /audit. */
interface AuditPage {
  items: AuditRecord[];
  nextCursor: string | null;
}

/** The fields of GET /change-requests/{id} the details pane shows. */
interface ChangeRequest {
  id: string;
  status: string;
  request: unknown;
  reason: { code: string; message: string } | null;
}

/** GET /audit/verify: a break is reported exactly when the log is not intact. */
type VerificationReport = {
  recordsChecked: number;
  head: { sequence: number };
  checkpoints: { checked: number };
} & ({ intact: true } | { intact: false; firstBreak: { sequence: number; kind: string; detail: string } });

/** The element with this id, checked to be of the expected kind, so a renamed element fails loudly. */
function element<T extends HTMLElement>(id: string, kind: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`#${id} is missing or not a ${kind.name}`);
  return found;
}

/** The filter form's input with this name. */
function field(name: string): HTMLInputElement {
  const found = form.elements.namedItem(name);
  if (!(found instanceof HTMLInputElement)) throw new Error(`no input named ${name} in the filters`);
  return found;
}

// The API lives beside this page (its route prefix is configurable in host.json).
const api = location.pathname.replace(/\/review\/?$/, '');
const form = element('filters', HTMLFormElement);
const rows = element('records', HTMLTableSectionElement);
const status = element('status', HTMLSpanElement);
const more = element('more', HTMLButtonElement);
const details = element('details', HTMLDivElement);
const verdict = element('verdict', HTMLSpanElement);
const exportLinks = { ndjson: element('ndjson', HTMLAnchorElement), csv: element('csv', HTMLAnchorElement) };
let nextCursor: string | null = null;

/** The form's filters as query parameters (datetime-local fields are read as UTC), plus `extra`. */
function query(extra: Record<string, string> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value !== 'string' || !value) continue;
    params.set(name, name === 'since' || name === 'until' ? new Date(value + 'Z').toISOString() : value.trim());
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return params;
}

/** Appends a cell holding `text` as text, never as markup. */
function cell(row: HTMLTableRowElement, text: string | number | null, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text == null ? '' : String(text);
  if (className) td.className = className;
  return td;
}

/** Appends a cell whose text is a button calling `onClick` with it; empty when there is no text. */
function linkCell(row: HTMLTableRowElement, text: string | null, onClick: (text: string) => void): HTMLTableCellElement {
  const td = row.insertCell();
  if (!text) return td;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link';
  button.textContent = text;
  button.addEventListener('click', () => onClick(text));
  td.append(button);
  return td;
}

/** How the outcome column reads: a rejection or failure names its code. */
function outcomeText(outcome: Outcome): string {
  return outcome.status === 'applied' ? 'applied' : outcome.status + ' (' + outcome.code + ')';
}

/** Appends one table row per record. */
function render(records: AuditRecord[]): void {
  for (const record of records) {
    const row = rows.insertRow();
    row.dataset.sequence = String(record.sequence);
    cell(row, record.sequence);
    cell(row, record.time);
    cell(row, record.actor);
    cell(row, record.action);
    cell(row, record.subject);
    cell(row, outcomeText(record.outcome), record.outcome.status);
    linkCell(row, record.changeRequestId, (id) => void showChangeRequest(id));
    linkCell(row, record.correlationId, followCorrelation);
  }
}

/** A caught value's message, for the status line. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The problem document's detail, when the body is one. */
function problemDetail(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('detail' in body)) return undefined;
  return typeof body.detail === 'string' ? body.detail : undefined;
}

/** GETs an API path; a non-2xx answer throws with the problem's detail. */
async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(api + path);
  const body: unknown = await response.json();
  if (!response.ok) throw new Error(problemDetail(body) || response.statusText);
  // The server's own types define these shapes; the page trusts its own API rather than re-validating it.
  return body as T;
}

/** Loads the first page for the filters, or with `append` the next page, and points the exports at the filters. */
async function search(append: boolean): Promise<void> {
  status.textContent = 'Loading…';
  try {
    const params = query(append && nextCursor ? { cursor: nextCursor, limit: '50' } : { limit: '50' });
    const page = await getJson<AuditPage>('/audit?' + params.toString());
    if (!append) rows.replaceChildren();
    render(page.items);
    nextCursor = page.nextCursor;
    more.hidden = !nextCursor;
    status.textContent = rows.rows.length + ' records';
    for (const [format, link] of Object.entries(exportLinks)) link.href = api + '/audit?' + query({ format }).toString();
  } catch (error) {
    status.textContent = 'Error: ' + messageOf(error);
  }
}

/** Replaces the filters with one correlation id and searches. */
function followCorrelation(id: string): void {
  form.reset();
  field('correlation').value = id;
  void search(false);
}

/** Shows a change request's status, reason and body in the details pane. */
async function showChangeRequest(id: string): Promise<void> {
  try {
    const request = await getJson<ChangeRequest>('/change-requests/' + encodeURIComponent(id));
    const reason = request.reason ? ' · ' + request.reason.code + ': ' + request.reason.message : '';
    details.textContent = 'Change request ' + request.id + ': ' + request.status + reason + '\n' + JSON.stringify(request.request, null, 2);
  } catch (error) {
    details.textContent = 'Change request ' + id + ': ' + messageOf(error);
  }
}

/** Runs the verifier and shows its verdict. */
async function verify(): Promise<void> {
  verdict.textContent = 'Verifying…';
  verdict.className = '';
  try {
    const report = await getJson<VerificationReport>('/audit/verify');
    if (report.intact) {
      verdict.textContent =
        'Intact: ' +
        report.recordsChecked +
        ' records, head ' +
        report.head.sequence +
        ', ' +
        report.checkpoints.checked +
        ' signed checkpoints';
      verdict.className = 'intact';
    } else {
      verdict.textContent =
        'Broken at record ' + report.firstBreak.sequence + ': ' + report.firstBreak.kind + ' (' + report.firstBreak.detail + ')';
      verdict.className = 'broken';
    }
  } catch (error) {
    verdict.textContent = 'Error: ' + messageOf(error);
  }
}

element('search', HTMLButtonElement).addEventListener('click', () => void search(false));
element('clear', HTMLButtonElement).addEventListener('click', () => {
  form.reset();
  void search(false);
});
more.addEventListener('click', () => void search(true));
element('verify', HTMLButtonElement).addEventListener('click', () => void verify());
form.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    void search(false);
  }
});
void search(false);
