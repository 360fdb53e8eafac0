// The API's own description (OpenAPI 3.1 generated from the routes' schemas, and a page listing them) and metrics.
import type { Router } from '../http.ts';

const INFO = { openapi: '3.1.0', info: { title: 'Props scoring service', version: '0.1.0' } } as const;

/** Registered on the assembled app, so the document covers every sub-app's routes. */
export function docsRoutes(app: Router, metricsText: () => string): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'lenderKey', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer' });
  // Built on first use, once: the routes are fixed by then, and an unauthenticated flood of document requests must not
  // cost a schema walk each.
  let built: { json: string; html: string } | undefined;
  const docs = () => {
    if (built) return built;
    const doc = app.getOpenAPI31Document(INFO);
    const rows = Object.entries(doc.paths ?? {})
      .flatMap(([p, item]) =>
        Object.keys(item ?? {}).map((m) => `<tr><td>${m.toUpperCase()}</td><td><code>${p}</code></td></tr>`),
      )
      .join('');
    built = {
      json: JSON.stringify(doc),
      html: `<!doctype html><title>Props API</title><h1>Props scoring service</h1><p>OpenAPI: <a href="/openapi.json">/openapi.json</a></p><table>${rows}</table>`,
    };
    return built;
  };
  app.get('/openapi.json', (c) => c.body(docs().json, 200, { 'content-type': 'application/json' }));
  app.get('/docs', (c) => c.html(docs().html));
  app.get('/metrics', (c) => c.text(metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4' }));
}
