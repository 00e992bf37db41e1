import { randomBytes } from 'node:crypto';
import { AuditAction } from '../domain/audit';
import type { HttpOutput } from './http/problems';

/**
 * GET /api/review: the auditors' page. One self-contained document (no build step, no third-party
 * code) over the public API: filter the log, follow a correlation id, open a change request, export,
 * and run the verifier. Every value from the log is set as text, never as markup, and a per-response
 * nonce lets only this page's own script and style run.
 */
export function reviewPage(): HttpOutput {
  const nonce = randomBytes(16).toString('base64');
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    },
    body: html(nonce),
  };
}

const TYPES = Object.values(AuditAction).map((action) => `<option>${action}</option>`).join('');

const html = (nonce: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audit review · Persistent Chat endpoints</title>
<style nonce="${nonce}">
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  form { display: grid; grid-template-columns: repeat(4, minmax(10rem, 1fr)); gap: .5rem 1rem; margin-bottom: 1rem; }
  label { display: flex; flex-direction: column; font-size: .8rem; color: #555; }
  input, select, button { font: inherit; padding: .3rem .4rem; }
  .actions { display: flex; gap: .5rem; align-items: center; margin-bottom: 1rem; flex-wrap: wrap; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
  th { background: #f3f3f3; }
  td.applied { color: #176b2c; } td.rejected { color: #9a5b00; } td.failed { color: #b3261e; }
  button.link { background: none; border: none; color: #0b57d0; padding: 0; cursor: pointer; text-decoration: underline; }
  #verdict.intact { color: #176b2c; } #verdict.broken { color: #b3261e; font-weight: bold; }
  #details { background: #f7f7f7; padding: .5rem 1rem; margin: 1rem 0; white-space: pre-wrap; font-family: ui-monospace, monospace; }
  #details:empty { display: none; }
</style>
</head>
<body>
<h1>Audit review</h1>
<form id="filters">
  <label>Subject <input name="subject" placeholder="sip:user@contoso.com"></label>
  <label>Actor <input name="actor"></label>
  <label>Type <select name="type"><option value="">any</option>${TYPES}</select></label>
  <label>Outcome <select name="outcome"><option value="">any</option><option>applied</option><option>rejected</option><option>failed</option></select></label>
  <label>Change request <input name="changeRequest"></label>
  <label>Correlation id <input name="correlation"></label>
  <label>Since (UTC) <input name="since" type="datetime-local" step="1"></label>
  <label>Until (UTC) <input name="until" type="datetime-local" step="1"></label>
</form>
<div class="actions">
  <button id="search" type="button">Search</button>
  <button id="clear" type="button">Clear</button>
  <a id="ndjson" href="#">Export NDJSON</a> <a id="csv" href="#">Export CSV</a>
  <button id="verify" type="button">Verify the log</button> <span id="verdict"></span>
  <span id="status" role="status"></span>
</div>
<div id="details"></div>
<table>
  <thead><tr><th>#</th><th>Time</th><th>Actor</th><th>Action</th><th>Subject</th><th>Outcome</th><th>Change request</th><th>Correlation</th></tr></thead>
  <tbody id="records"></tbody>
</table>
<p><button id="more" type="button" hidden>Load more</button></p>
<script nonce="${nonce}">
// The API lives beside this page (its route prefix is configurable in host.json).
const api = location.pathname.replace(/\\/review\\/?$/, '');
const form = document.getElementById('filters');
const rows = document.getElementById('records');
const status = document.getElementById('status');
let nextCursor = null;

function query(extra) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (!value) continue;
    params.set(name, name === 'since' || name === 'until' ? new Date(value + 'Z').toISOString() : value.trim());
  }
  for (const [name, value] of Object.entries(extra || {})) params.set(name, value);
  return params;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text == null ? '' : String(text);
  if (className) td.className = className;
  return td;
}

function linkCell(row, text, onClick) {
  const td = row.insertCell();
  if (!text) return td;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link';
  button.textContent = text;
  button.addEventListener('click', onClick);
  td.append(button);
  return td;
}

function render(records) {
  for (const record of records) {
    const row = rows.insertRow();
    row.dataset.sequence = record.sequence;
    cell(row, record.sequence);
    cell(row, record.time);
    cell(row, record.actor);
    cell(row, record.action);
    cell(row, record.subject);
    cell(row, record.outcome.status === 'applied' ? 'applied' : record.outcome.status + ' (' + record.outcome.code + ')', record.outcome.status);
    linkCell(row, record.changeRequestId, () => showChangeRequest(record.changeRequestId));
    linkCell(row, record.correlationId, () => followCorrelation(record.correlationId));
  }
}

async function getJson(path) {
  const response = await fetch(api + path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

async function search(append) {
  status.textContent = 'Loading…';
  try {
    const params = query(append && nextCursor ? { cursor: nextCursor, limit: '50' } : { limit: '50' });
    const page = await getJson('/audit?' + params);
    if (!append) rows.replaceChildren();
    render(page.items);
    nextCursor = page.nextCursor;
    document.getElementById('more').hidden = !nextCursor;
    status.textContent = rows.rows.length + ' records';
    for (const format of ['ndjson', 'csv']) document.getElementById(format).href = api + '/audit?' + query({ format });
  } catch (error) {
    status.textContent = 'Error: ' + error.message;
  }
}

function followCorrelation(id) {
  form.reset();
  form.elements.correlation.value = id;
  search(false);
}

async function showChangeRequest(id) {
  const details = document.getElementById('details');
  try {
    const request = await getJson('/change-requests/' + encodeURIComponent(id));
    const reason = request.reason ? ' · ' + request.reason.code + ': ' + request.reason.message : '';
    details.textContent = 'Change request ' + request.id + ': ' + request.status + reason + '\\n' + JSON.stringify(request.request, null, 2);
  } catch (error) {
    details.textContent = 'Change request ' + id + ': ' + error.message;
  }
}

async function verify() {
  const verdict = document.getElementById('verdict');
  verdict.textContent = 'Verifying…';
  verdict.className = '';
  try {
    const report = await getJson('/audit/verify');
    if (report.intact) {
      verdict.textContent = 'Intact: ' + report.recordsChecked + ' records, head ' + report.head.sequence + ', ' + report.checkpoints.checked + ' signed checkpoints';
      verdict.className = 'intact';
    } else {
      verdict.textContent = 'Broken at record ' + report.firstBreak.sequence + ': ' + report.firstBreak.kind + ' (' + report.firstBreak.detail + ')';
      verdict.className = 'broken';
    }
  } catch (error) {
    verdict.textContent = 'Error: ' + error.message;
  }
}

document.getElementById('search').addEventListener('click', () => search(false));
document.getElementById('clear').addEventListener('click', () => { form.reset(); search(false); });
document.getElementById('more').addEventListener('click', () => search(true));
document.getElementById('verify').addEventListener('click', verify);
form.addEventListener('keydown', (event) => { if (event.key === 'Enter') { event.preventDefault(); search(false); } });
search(false);
</script>
</body>
</html>
`;
