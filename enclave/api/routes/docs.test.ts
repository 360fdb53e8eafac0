// The API description is built once, not per request: an unauthenticated flood of /openapi.json or /docs must not
// cost a walk of every route's schema each.
import { describe, expect, it, vi } from 'vitest';
import { testService } from '../../../testing/service.ts';

describe('docs routes', () => {
  it('attack: repeated /openapi.json and /docs requests build the OpenAPI document once, and answer the same', async () => {
    const s = await testService();
    const build = vi.spyOn(s.app, 'getOpenAPI31Document');
    const first = await s.call('GET', '/openapi.json');
    const page = await s.call('GET', '/docs');
    for (let i = 0; i < 5; i++) {
      expect(await s.call('GET', '/openapi.json')).toEqual(first);
      expect(await s.call('GET', '/docs')).toEqual(page);
    }
    expect(build).toHaveBeenCalledTimes(1);
    expect(first.type).toContain('application/json');
    expect(first.json.openapi).toBe('3.1.0');
    expect(page.type).toContain('text/html');
  });
});
