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
  .zone { color: #555; font-size: .85rem; margin: -.5rem 0 1rem; }
  section.panel { border: 1px solid #ddd; padding: .5rem 1rem; margin-bottom: 1rem; }
  section.panel h2 { font-size: 1rem; margin: .2rem 0 .5rem; }
  #timeline-chart { display: block; max-width: 100%; }
  #timeline-chart .applied { fill: #176b2c; } #timeline-chart .rejected { fill: #c98a00; } #timeline-chart .failed { fill: #b3261e; }
  #timeline-chart text { font-size: 10px; fill: #1b1b1b; }
  .legend span { margin-right: 1rem; } .legend .swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
  .swatch.applied { background: #176b2c; } .swatch.rejected { background: #c98a00; } .swatch.failed { background: #b3261e; }
  .note { color: #9a5b00; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  #kit code { display: block; background: #f7f7f7; padding: .4rem .6rem; margin: .4rem 0; font-family: ui-monospace, monospace; }
  #kit a { margin-right: 1rem; }
  button.record { background: none; border: 1px solid #bbb; border-radius: 3px; padding: 0 .4rem; cursor: pointer; white-space: nowrap; }
  button.record::before { content: '▸ '; } button.record[aria-expanded="true"]::before { content: '▾ '; }
  tr.pane > td { background: #fafafa; }
  .sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
  .sides h3 { font-size: .9rem; margin: .2rem 0; }
  .sides dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: 0; }
  .sides dt { color: #555; } .sides dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
  .sides .changed { background: #fff3c4; font-weight: 600; }
  .sides .changed-mark { color: #7a4f00; font-size: .75rem; margin-left: .3rem; }
</style>
</head>
<body>
<h1>Audit review</h1>
<p class="zone">Times are in <span id="zone"></span>; hover a time for its exact UTC time.</p>
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
  <label>Since (your time) <input name="since" type="datetime-local" step="1"></label>
  <label>Until (your time) <input name="until" type="datetime-local" step="1"></label>
</form>
<div class="actions">
  <button id="search" type="button">Search</button>
  <button id="clear" type="button">Clear</button>
  <a id="ndjson" href="#">Export NDJSON</a> <a id="csv" href="#">Export CSV</a>
  <button id="verify" type="button">Verify the log</button> <span id="verdict"></span>
  <span id="status" role="status"></span>
</div>
<div id="details"></div>
<section class="panel" id="checkpoint" aria-labelledby="checkpoint-heading">
  <h2 id="checkpoint-heading">Latest signed checkpoint</h2>
  <p id="checkpoint-summary">Loading…</p>
</section>
<section class="panel" id="kit" aria-labelledby="kit-heading">
  <h2 id="kit-heading">Offline verification kit</h2>
  <p>Download these three files and check them on your own machine, with no access to this service.
  The export covers the time window above (Since, Until) and ignores the other filters: a filtered export cannot be verified on its own, since its records do not chain.</p>
  <p><a id="kit-audit" href="#" data-filename="audit.ndjson">audit.ndjson (the window's export)</a>
  <a id="kit-checkpoints" href="#" data-filename="checkpoints.ndjson">checkpoints.ndjson</a>
  <a id="kit-keys" href="#" data-filename="signing-keys.json">signing-keys.json</a></p>
  <code id="kit-command">pchat audit verify --file audit.ndjson --checkpoints checkpoints.ndjson --keys signing-keys.json</code>
  <p>Exit status 0: intact; 1: broken (it names the first record and the kind of break); 3: cannot check.</p>
</section>
<section class="panel" id="timeline" aria-labelledby="timeline-heading">
  <h2 id="timeline-heading">Changes per day (current filters)</h2>
  <p class="legend"><span><span class="swatch applied"></span>applied</span><span><span class="swatch rejected"></span>rejected</span><span><span class="swatch failed"></span>failed</span></p>
  <svg id="timeline-chart" role="img" aria-labelledby="timeline-heading" width="0" height="0"></svg>
  <p id="timeline-note"></p>
  <table id="timeline-table" class="visually-hidden">
    <caption>Applied, rejected and failed changes per day</caption>
    <thead><tr><th scope="col">Day</th><th scope="col">Applied</th><th scope="col">Rejected</th><th scope="col">Failed</th></tr></thead>
    <tbody id="timeline-rows"></tbody>
  </table>
</section>
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
