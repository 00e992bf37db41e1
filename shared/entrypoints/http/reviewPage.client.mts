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

// ---------------------------------------------------------------------------------------------
// Signing in. The page itself is anonymous (it holds no data); its API calls need the auditor role.
// It learns how to sign in from the API's 401, not from the server rendering a mode into the page:
// the challenge is the API's own statement of what it accepts, so page and API cannot disagree.
//   WWW-Authenticate: Bearer realm="pchat"                                       (AUTH_MODE=keys)
//     -> ask for an API key in a small form, keep it in sessionStorage (this tab's session only),
//        and retry with Authorization: Bearer <key>.
//   WWW-Authenticate: Bearer realm="pchat", authorization_uri="/.auth/login/aad"  (AUTH_MODE=easyauth)
//     -> send the browser to App Service's sign-in, which brings it back here (its cookie then
//        authenticates every call, exports included).
// ---------------------------------------------------------------------------------------------

const KEY_STORAGE = 'pchat-api-key';
const keyForm = element('key-form', HTMLDivElement);
const keyInput = element('key-input', HTMLInputElement);
const keyMessage = element('key-message', HTMLSpanElement);
/** Callers waiting for a key to be entered. */
let waitingForKey: Array<() => void> = [];

/** The API key of this browser session, if one was entered. */
function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** Shows the key form with `message`, and resolves once a key has been entered. */
function askForKey(message: string): Promise<void> {
  keyMessage.textContent = message;
  keyForm.hidden = false;
  keyInput.focus();
  return new Promise((resolve) => waitingForKey.push(resolve));
}

/** Keeps the entered key for this session and lets every waiting call retry with it. */
function useEnteredKey(): void {
  const key = keyInput.value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  keyInput.value = '';
  keyForm.hidden = true;
  const waiting = waitingForKey;
  waitingForKey = [];
  for (const resolve of waiting) resolve();
}

/** Where App Service authentication signs a browser in and sends it back to this page. */
function signInUrl(): string {
  return '/.auth/login/aad?post_login_redirect_uri=' + encodeURIComponent(location.pathname + location.search);
}

/** Fetches an API path with the session's key; on 401 signs in as the challenge says and retries. */
async function apiFetch(path: string): Promise<Response> {
  for (;;) {
    const key = storedKey();
    const response = await fetch(api + path, key ? { headers: { authorization: 'Bearer ' + key } } : {});
    if (response.status !== 401) return response;
    const challenge = response.headers.get('www-authenticate') ?? '';
    if (/authorization_uri=/i.test(challenge)) {
      location.assign(signInUrl());
      // The page is leaving; nothing more to do here.
      return new Promise<Response>(() => undefined);
    }
    if (key) sessionStorage.removeItem(KEY_STORAGE);
    await askForKey(key ? 'That key was refused; enter another.' : 'The API needs an auditor API key.');
  }
}

/** GETs an API path; a non-2xx answer throws with the problem's detail. */
async function getJson<T>(path: string): Promise<T> {
  const response = await apiFetch(path);
  const body: unknown = await response.json();
  if (response.status === 403 && storedKey()) {
    // Known, but without the auditor role: say so, and offer to use another key.
    keyMessage.textContent = problemDetail(body) ?? 'This key may not read the audit log.';
    keyForm.hidden = false;
  }
  if (!response.ok) throw new Error(problemDetail(body) || response.statusText);
  // The server's own types define these shapes; the page trusts its own API rather than re-validating it.
  return body as T;
}

/**
 * Downloads an export. A link cannot carry an Authorization header, so with a key the file is
 * fetched and handed to the browser as a download; without one (signed in by cookie) the link works.
 */
async function download(event: MouseEvent, link: HTMLAnchorElement): Promise<void> {
  if (!storedKey()) return;
  event.preventDefault();
  const response = await apiFetch(link.href.slice(location.origin.length + api.length));
  if (!response.ok) {
    status.textContent = 'Error: ' + (problemDetail(await response.json()) || response.statusText);
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'audit-export';
  const url = URL.createObjectURL(await response.blob());
  const save = document.createElement('a');
  save.href = url;
  save.download = name;
  save.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
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

element('key-submit', HTMLButtonElement).addEventListener('click', useEnteredKey);
keyInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') useEnteredKey();
});
for (const link of Object.values(exportLinks)) link.addEventListener('click', (event) => void download(event, link));
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
