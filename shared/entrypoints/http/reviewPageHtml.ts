import { AuditAction } from '../../domain/audit';

/** The type filter's options: every action the log can record. */
const TYPES = Object.values(AuditAction)
  .map((action) => `<option>${action}</option>`)
  .join('');

// Nothing here is filled from data: the script sets every value from the log as text, never as markup.
/** The review page's document, with its style and `script` (the compiled client) inlined under `nonce`. */
export const reviewPageHtml = (nonce: string, script: string): string => `<!doctype html>
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
  #key-form { display: flex; gap: .5rem; align-items: end; padding: .5rem 1rem; margin-bottom: 1rem; background: #fff8e1; border: 1px solid #e0c060; }
  #key-form[hidden] { display: none; }
  #key-message { color: #9a5b00; }
</style>
</head>
<body>
<h1>Audit review</h1>
<div id="key-form" hidden>
  <label>API key (auditor) <input id="key-input" type="password" autocomplete="off" spellcheck="false"></label>
  <button id="key-submit" type="button">Use this key</button>
  <span id="key-message" role="alert"></span>
</div>
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
<script type="module" nonce="${nonce}">
${script}
</script>
</body>
</html>
`;
