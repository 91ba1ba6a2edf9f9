export interface SourceStatus {
  name: string;
  path: string;
  format: string;
  state: string;
  lines: number;
  errors: number;
  lagBytes: number;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export function renderLandingPage(
  version: string,
  sources: readonly SourceStatus[],
  collectors: readonly string[],
): string {
  const rows = sources
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.name)}</td><td><code>${escapeHtml(s.path)}</code></td><td>${escapeHtml(s.format)}</td>` +
        `<td>${escapeHtml(s.state)}</td><td>${s.lines}</td><td>${s.errors}</td><td>${s.lagBytes}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crm-exporter</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>
</head><body>
<h1>crm-exporter ${escapeHtml(version)}</h1>
<ul><li><a href="metrics">/metrics</a></li><li><a href="healthz">/healthz</a></li></ul>
<h2>Log sources</h2>
${sources.length === 0 ? '<p>No log sources configured.</p>' : `<table><tr><th>name</th><th>path</th><th>format</th><th>state</th><th>lines</th><th>parse errors</th><th>lag bytes</th></tr>\n${rows}\n</table>`}
<h2>Scrape-time collectors</h2>
<p>${collectors.length === 0 ? 'None configured.' : collectors.map(escapeHtml).join(', ')}</p>
</body></html>
`;
}
