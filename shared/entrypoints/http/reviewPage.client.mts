/**
 * The review page's browser script. An ES module (.mts compiles to .mjs, no CommonJS wrapper), so its
 * names stay out of the window's globals (`status` is one) and tsc checks it against the DOM lib.
 * It imports nothing: the handler inlines the compiled text under the response's CSP nonce.
 */

/** What an audit record's outcome says (the API's AuditOutcome). */
type Outcome = { status: 'applied' } | { status: 'rejected' | 'failed'; code: string; message: string };

/** The fields of an audit record the table and its before/after pane show. */
interface AuditRecord {
  sequence: number;
  time: string;
  actor: string;
  action: string;
  subject: string;
  outcome: Outcome;
  changeRequestId: string | null;
  correlationId: string;
  before: unknown;
  after: unknown;
}

/** GET /audit/timeline: counts per day of the reader's time zone. */
interface Timeline {
  timeZone: string;
  days: Array<{ day: string; applied: number; rejected: number; failed: number }>;
  recordsCounted: number;
  complete: boolean;
  countedSince: string | null;
}

/** A checkpoint as GET /audit/checkpoints lists it: the signed members, and where its witness copies stand. */
interface ListedCheckpoint {
  sequence: number;
  hash: string;
  time: string;
  keyId?: string;
  algorithm?: string;
  witnesses: { event: 'published' | 'pending'; blob: 'written' | 'pending' | 'off' };
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

/** The <svg> element with this id, checked like `element` (an SVG element is no HTMLElement). */
function svgElement(id: string): SVGSVGElement {
  const found = document.getElementById(id);
  if (!(found instanceof SVGSVGElement)) throw new Error(`#${id} is missing or not an svg element`);
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
const kitLinks = {
  audit: element('kit-audit', HTMLAnchorElement),
  checkpoints: element('kit-checkpoints', HTMLAnchorElement),
  keys: element('kit-keys', HTMLAnchorElement),
};
const checkpointSummary = element('checkpoint-summary', HTMLParagraphElement);
const timelineChart = svgElement('timeline-chart');
const timelineRows = element('timeline-rows', HTMLTableSectionElement);
const timelineNote = element('timeline-note', HTMLParagraphElement);
let nextCursor: string | null = null;

/** The reader's time zone (the browser's), in which every time and every timeline day is shown. */
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
/** Local date and time with the zone's short name (EST, GMT+1, ...), so a reader never mistakes it for UTC. */
const localFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

/** The form's filters as query parameters (datetime-local fields are the reader's local time), plus `extra`. */
function query(extra: Record<string, string> = {}, only?: string[]): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value !== 'string' || !value || (only && !only.includes(name))) continue;
    // A datetime-local value has no zone: Date reads it as the browser's local time.
    params.set(name, name === 'since' || name === 'until' ? new Date(value).toISOString() : value.trim());
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return params;
}

/** A <time> showing `iso` in the reader's zone, with the exact UTC time as its datetime and on hover. */
function timeElement(iso: string): HTMLTimeElement {
  const time = document.createElement('time');
  time.dateTime = iso;
  time.title = iso;
  time.textContent = localFormat.format(new Date(iso));
  return time;
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
    row.insertCell().append(recordToggle(row, record));
    row.insertCell().append(timeElement(record.time));
    cell(row, record.actor);
    cell(row, record.action);
    cell(row, record.subject);
    cell(row, outcomeText(record.outcome), record.outcome.status);
    linkCell(row, record.changeRequestId, (id) => void showChangeRequest(id));
    linkCell(row, record.correlationId, followCorrelation);
  }
}

// ---------------------------------------------------------------------------------------------
// A record's before and after, side by side. Every value is someone else's text (display names,
// addresses): it is set with textContent only, never parsed as markup.
// ---------------------------------------------------------------------------------------------

/** The sequence cell's button: opens (and closes) the record's before/after pane in the row below. */
function recordToggle(row: HTMLTableRowElement, record: AuditRecord): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'record';
  button.textContent = String(record.sequence);
  button.title = 'Show the before and after of record ' + record.sequence;
  button.setAttribute('aria-expanded', 'false');
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') === 'true';
    const pane = row.nextElementSibling;
    if (open && pane instanceof HTMLTableRowElement && pane.classList.contains('pane')) pane.remove();
    else insertPane(row, record, button);
    button.setAttribute('aria-expanded', String(!open));
  });
  return button;
}

/** Inserts the before/after pane as the row after `row`, labelled for the button that opened it. */
function insertPane(row: HTMLTableRowElement, record: AuditRecord, button: HTMLButtonElement): void {
  const pane = rows.insertRow(row.sectionRowIndex + 1);
  pane.className = 'pane';
  pane.id = 'pane-' + record.sequence;
  button.setAttribute('aria-controls', pane.id);
  const td = pane.insertCell();
  td.colSpan = row.cells.length;
  const sides = document.createElement('div');
  sides.className = 'sides';
  const changed = changedFields(record.before, record.after);
  sides.append(
    side('before', sideTitle('Before', record.before, record.after), record.before, changed),
    side('after', sideTitle('After', record.after, null), record.after, changed),
  );
  td.append(sides);
}

/** A plain object's own fields, or none for anything else (null, a string, an array). */
function fieldsOf(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The fields whose values differ between before and after (a field on one side only counts). */
function changedFields(before: unknown, after: unknown): Set<string> {
  const a = fieldsOf(before) ?? {};
  const b = fieldsOf(after) ?? {};
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return new Set([...names].filter((name) => JSON.stringify(a[name]) !== JSON.stringify(b[name])));
}

/** A side's heading: what the value is (a directory user, an endpoint, ...), and "replaced" for a migrated user. */
function sideTitle(label: string, value: unknown, other: unknown): string {
  const kind = fieldsOf(value)?.kind;
  if (value === null || value === undefined) return label + ': nothing';
  const otherKind = fieldsOf(other)?.kind;
  if (kind === 'user' && otherKind === 'endpoint') return label + ': directory user (replaced by the endpoint)';
  if (kind === 'user') return label + ': directory user';
  if (kind === 'endpoint') return label + ': endpoint';
  return label;
}

/** How a field's value reads: strings as they are, times in the reader's zone, anything else as JSON. */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** One side of the pane: a heading and its fields as a list, changed ones marked. */
function side(name: string, title: string, value: unknown, changed: Set<string>): HTMLElement {
  const section = document.createElement('section');
  section.className = name;
  const heading = document.createElement('h3');
  heading.textContent = title;
  section.append(heading);
  const fields = fieldsOf(value);
  if (!fields) {
    if (value !== null && value !== undefined) section.append(valueText(value));
    return section;
  }
  const list = document.createElement('dl');
  for (const [field, fieldValue] of Object.entries(fields)) {
    const dt = document.createElement('dt');
    dt.textContent = field;
    const dd = document.createElement('dd');
    if (typeof fieldValue === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(fieldValue)) dd.append(timeElement(fieldValue));
    else dd.textContent = valueText(fieldValue);
    if (changed.has(field)) {
      dt.className = dd.className = 'changed';
      const mark = document.createElement('span');
      mark.className = 'changed-mark';
      mark.textContent = '(changed)';
      dt.append(mark);
    }
    list.append(dt, dd);
  }
  section.append(list);
  return section;
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
    const body: unknown = await response.json().catch(() => null);
    status.textContent = 'Error: ' + (problemDetail(body) || response.statusText || 'HTTP ' + response.status);
    return;
  }
  // The kit's files keep the names its command line uses.
  const name = link.dataset.filename ?? /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'audit-export';
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
    status.textContent = rows.querySelectorAll('tr[data-sequence]').length + ' records';
    for (const [format, link] of Object.entries(exportLinks)) link.href = api + '/audit?' + query({ format }).toString();
    // The kit's export is the time window only: its records must chain to be verifiable.
    kitLinks.audit.href = api + '/audit?' + query({ format: 'ndjson' }, ['since', 'until']).toString();
    if (!append) void showTimeline();
  } catch (error) {
    status.textContent = 'Error: ' + messageOf(error);
  }
}

// ---------------------------------------------------------------------------------------------
// The timeline: counts per day come from GET /audit/timeline, counted on the server in the reader's
// zone, so the page never downloads the records it plots (a large log stays a small answer).
// ---------------------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
const OUTCOMES = ['applied', 'rejected', 'failed'] as const;
const CHART = { height: 120, bar: 28, gap: 10, label: 16 };

/** An SVG element with these attributes. */
function svg<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const created = document.createElementNS(SVG, name);
  for (const [attribute, value] of Object.entries(attributes)) created.setAttribute(attribute, String(value));
  return created;
}

/** How one day's counts read, in a bar's title and for a screen reader. */
function dayText(day: Timeline['days'][number]): string {
  return day.day + ': ' + day.applied + ' applied, ' + day.rejected + ' rejected, ' + day.failed + ' failed';
}

/** Draws the stacked bars, one per day, each with a title giving its counts. */
function drawChart(days: Timeline['days']): void {
  const max = Math.max(1, ...days.map((d) => d.applied + d.rejected + d.failed));
  const scale = (CHART.height - CHART.label) / max;
  timelineChart.replaceChildren();
  timelineChart.setAttribute('width', String(Math.max(1, days.length * (CHART.bar + CHART.gap))));
  timelineChart.setAttribute('height', String(CHART.height + CHART.label));
  days.forEach((day, index) => {
    const group = svg('g', { 'data-day': day.day });
    const title = svg('title', {});
    title.textContent = dayText(day);
    group.append(title);
    const x = index * (CHART.bar + CHART.gap);
    let top = CHART.height;
    for (const outcome of OUTCOMES) {
      const height = day[outcome] * scale;
      if (height === 0) continue;
      top -= height;
      group.append(svg('rect', { x, y: top, width: CHART.bar, height, class: outcome }));
    }
    const total = svg('text', { x: x + CHART.bar / 2, y: top - 3, 'text-anchor': 'middle' });
    total.textContent = String(day.applied + day.rejected + day.failed);
    const label = svg('text', { x: x + CHART.bar / 2, y: CHART.height + CHART.label - 4, 'text-anchor': 'middle' });
    label.textContent = day.day.slice(5);
    group.append(total, label);
    timelineChart.append(group);
  });
}

/** Fills the accessible table with the same counts. */
function fillTimelineTable(days: Timeline['days']): void {
  timelineRows.replaceChildren();
  for (const day of days) {
    const row = timelineRows.insertRow();
    row.dataset.day = day.day;
    for (const value of [day.day, day.applied, day.rejected, day.failed]) cell(row, value);
  }
}

/** Fetches the timeline of the current filters in the reader's zone and shows it. */
async function showTimeline(): Promise<void> {
  try {
    const timeline = await getJson<Timeline>('/audit/timeline?' + query({ timeZone }).toString());
    drawChart(timeline.days);
    fillTimelineTable(timeline.days);
    timelineNote.className = timeline.complete ? '' : 'note';
    timelineNote.textContent = timeline.complete
      ? timeline.recordsCounted + ' records, days in ' + timeline.timeZone + '.'
      : 'Only the newest ' +
        timeline.recordsCounted +
        ' records were counted (back to ' +
        (timeline.countedSince ? localFormat.format(new Date(timeline.countedSince)) : '?') +
        '); narrow the time window to count older days.';
  } catch (error) {
    timelineNote.className = 'note';
    timelineNote.textContent = 'Timeline unavailable: ' + messageOf(error);
  }
}

// ---------------------------------------------------------------------------------------------
// The latest checkpoint and where its witness copies stand (GET /audit/checkpoints?limit=1).
// ---------------------------------------------------------------------------------------------

/** How a checkpoint's witnesses stand, in words. */
function witnessText(witnesses: ListedCheckpoint['witnesses']): string {
  const event = witnesses.event === 'published' ? 'event published' : 'event not yet published';
  const blob = { written: 'blob copy written', pending: 'blob copy not yet written', off: 'no blob witness configured' }[witnesses.blob];
  return 'witnesses: ' + event + ', ' + blob;
}

/** Shows the newest checkpoint and its witnesses, or that there is none yet. */
async function showCheckpoint(): Promise<void> {
  try {
    const response = await apiFetch('/audit/checkpoints?limit=1');
    const body: unknown = await response.json();
    if (!response.ok) throw new Error(problemDetail(body) || response.statusText);
    const [latest] = (body as { items: ListedCheckpoint[] }).items;
    if (!latest) {
      checkpointSummary.textContent = 'No checkpoint has been signed yet.';
      return;
    }
    checkpointSummary.replaceChildren(
      'Checkpoint at record ' + latest.sequence + ', signed ',
      timeElement(latest.time),
      ' with key ' +
        (latest.keyId ?? '(none: a v1 checkpoint)') +
        ' (' +
        (latest.algorithm ?? 'EdDSA') +
        '); ' +
        witnessText(latest.witnesses) +
        '.',
    );
  } catch (error) {
    checkpointSummary.textContent = 'Checkpoint unavailable: ' + messageOf(error);
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
element('zone', HTMLSpanElement).textContent = timeZone;
kitLinks.checkpoints.href = api + '/audit/checkpoints?format=ndjson';
kitLinks.keys.href = api + '/audit/signing-keys';
for (const link of [...Object.values(exportLinks), ...Object.values(kitLinks)])
  link.addEventListener('click', (event) => void download(event, link));
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
void showCheckpoint();
