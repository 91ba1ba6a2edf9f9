import { describe, expect, it } from 'vitest';
import {
  autoTemplate,
  isIdSegment,
  NONE_ROUTE,
  OTHER_ROUTE,
  ROUTE_OTHER,
  RouteResolver,
  truncateRoute,
} from '../../src/exporter/parsers/route-template.js';

describe('automatic templating', () => {
  it.each([
    ['/api/customers/123', '/api/customers/:id'],
    ['/api/customers/123/notes/7', '/api/customers/:id/notes/:id'],
    ['/api/customers/123?tab=notes&x=1', '/api/customers/:id'],
    ['/api/customers/123#section', '/api/customers/:id'],
    ['/api/customers?id=123', '/api/customers'],
    ['/api/deals/8f14e45f-ceea-467a-9f3b-2b3c4d5e6f70', '/api/deals/:id'],
    ['/api/deals/8F14E45F-CEEA-467A-9F3B-2B3C4D5E6F70/stage', '/api/deals/:id/stage'],
    ['/api/reports/5f2b9c8e1d3a4b6c', '/api/reports/:id'],
    ['/api/reports/5f2b9c8e1d3a4b6', '/api/reports/5f2b9c8e1d3a4b6'],
    ['/api/tokens/dGhpcyBpcyBhIHRva2VuIDEyMzQ1Njc4', '/api/tokens/:id'],
    ['/api/tokens/abc_DEF-123_ghi-456_jkl', '/api/tokens/:id'],
    ['/api/customers/alice', '/api/customers/alice'],
    ['/api/v2/customers', '/api/v2/customers'],
    ['/how-to-install-the-crm-client', '/how-to-install-the-crm-client'],
    ['/files/report.2024.pdf', '/files/report.2024.pdf'],
    ['/', '/'],
    ['/api//customers/', '/api//customers/'],
    ['http://crm.example:8080/api/customers/9?x', '/api/customers/:id'],
    ['https://crm.example', ''],
    ['*', '*'],
    ['/caf\u00e9/12', '/caf\u00e9/:id'],
  ])('%s -> %s', (path, route) => {
    expect(autoTemplate(path)).toBe(route === '' ? NONE_ROUTE : route);
  });

  it.each(['', '?x=1', '#top'])('%j has no path: __none__', (path) => {
    expect(autoTemplate(path)).toBe(NONE_ROUTE);
  });

  it.each([
    ['123', true],
    ['0', true],
    ['deadbeefdeadbeef', true],
    ['deadbeefdeadbee', false],
    ['8f14e45f-ceea-467a-9f3b-2b3c4d5e6f70', true],
    ['8f14e45f-ceea-467a-9f3b-2b3c4d5e6f7-', true], // not a UUID, but base64url-ish
    ['8f14e45f.ceea.467a.9f3b', false],
    ['----------------------', false],
    ['aaaaaaaaaaaaaaaaaaaaaaaa', true],
    ['abcdefghijklmnopqrstuvwxyz', false],
    ['abcdefghijklmnopqrst1', true],
    ['customers', false],
    ['', false],
    ['12.5', false],
  ])('isIdSegment(%j) = %s', (segment, expected) => {
    const b = Buffer.from(segment);
    expect(isIdSegment(b, 0, b.length)).toBe(expected);
  });
});

describe('configured templates', () => {
  const templates = ['/api/customers/:customer/notes', '/static/*', '/api/users/:name', '/api/2024/report'];

  it.each([
    ['/api/customers/42/notes', '/api/customers/:customer/notes'],
    ['/api/customers/alice/notes?x', '/api/customers/:customer/notes'],
    ['/api/customers/42/notes/', '/api/customers/:customer/notes'],
    ['/static/js/app.3f2a.js', '/static/*'],
    ['/static', '/static/*'],
    ['/api/users/bob', '/api/users/:name'],
    ['/api/users/', '/api/users/'],
    ['/api/users/bob/avatar', '/api/users/bob/avatar'],
    ['/api/2024/report', '/api/2024/report'],
    ['/api/2025/report', '/api/:id/report'],
    ['/api/customers/42', '/api/customers/:id'],
  ])('%s -> %s', (path, route) => {
    expect(autoTemplate(path, templates)).toBe(route);
  });

  it('tries templates in config order', () => {
    expect(autoTemplate('/a/b', ['/a/:x', '/a/b'])).toBe('/a/:x');
    expect(autoTemplate('/a/b', ['/a/b', '/a/:x'])).toBe('/a/b');
  });
});

describe('RouteResolver', () => {
  const path = (r: RouteResolver, p: string): string =>
    r.names[r.resolvePath(Buffer.from(p), 0, Buffer.byteLength(p))] as string;
  const route = (r: RouteResolver, p: string): number => r.resolveRoute(Buffer.from(p), 0, Buffer.byteLength(p));

  it('caps distinct routes at maxRoutes; later ones are __other__, known ones keep resolving', () => {
    const r = new RouteResolver({ maxRoutes: 2 });
    expect(path(r, '/a/1')).toBe('/a/:id');
    expect(path(r, '/b')).toBe('/b');
    expect(path(r, '/c')).toBe(OTHER_ROUTE);
    expect(r.resolvePath(Buffer.from('/d'), 0, 2)).toBe(ROUTE_OTHER);
    expect(path(r, '/a/2')).toBe('/a/:id');
    expect(path(r, '/-')).toBe(OTHER_ROUTE);
    expect(r.size).toBe(2);
    expect(r.names).toEqual([OTHER_ROUTE, NONE_ROUTE, '/a/:id', '/b']);
  });

  it('__none__ does not use up a route', () => {
    const r = new RouteResolver({ maxRoutes: 1 });
    expect(r.names[r.resolvePath(Buffer.alloc(0), -1, -1)]).toBe(NONE_ROUTE);
    expect(path(r, '/x')).toBe('/x');
  });

  it('uses an application route as-is, bounded by the same cap', () => {
    const r = new RouteResolver({ maxRoutes: 2 });
    const id = route(r, '/api/customers/:id');
    expect(r.names[id]).toBe('/api/customers/:id');
    expect(route(r, '/api/customers/:id')).toBe(id);
    expect(path(r, '/api/customers/5')).toBe('/api/customers/:id');
    expect(r.names[route(r, '/weird/{x}')]).toBe('/weird/{x}');
    expect(route(r, '/third')).toBe(ROUTE_OTHER);
    expect(route(r, '')).toBe(-1);
  });

  it('keeps resolving correctly when its caches are cleared for lack of room', () => {
    const r = new RouteResolver({ maxRoutes: 5000, cacheEntries: 8 });
    for (let i = 0; i < 100; i++) expect(path(r, `/r${i}/123`)).toBe(`/r${i}/:id`);
    for (let i = 0; i < 100; i++) expect(path(r, `/r${i}/456`)).toBe(`/r${i}/:id`);
    expect(r.size).toBe(100);
  });

  it('handles paths longer than its scratch buffer', () => {
    const long = `/${'g'.repeat(5000)}/42`;
    expect(autoTemplate(long)).toBe(`/${'g'.repeat(5000)}/:id`);
  });
});

describe('route label length (max_route_length)', () => {
  const path = (r: RouteResolver, p: string): string =>
    r.names[r.resolvePath(Buffer.from(p), 0, Buffer.byteLength(p))] as string;
  const route = (r: RouteResolver, p: string): string =>
    r.names[r.resolveRoute(Buffer.from(p), 0, Buffer.byteLength(p))] as string;

  it.each([
    ['/api/customers/:id', 20, '/api/customers/:id'],
    ['/api/customers/:id/notes', 20, '/api/customers/:id/*'],
    ['/api/customers/:id/notes', 19, '/api/customers/*'],
    ['/abcdefghijklmnopqrstuvwxyz', 16, '/*'],
    ['unmatched-but-far-too-long-for-the-cap', 16, '*'],
    ['/\u00e9\u00e9\u00e9/\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9', 8, '/\u00e9\u00e9\u00e9/*'],
    ['/a/\u{1F600}\u{1F600}\u{1F600}/b', 8, '/a/*'],
  ])('truncateRoute(%j, %d) = %j', (name, max, cut) => {
    expect(truncateRoute(name, max)).toBe(cut);
    expect(cut.length).toBeLessThanOrEqual(max);
  });

  it('cuts long templated paths at a segment boundary, counts every such line, caches nothing unbounded', () => {
    const r = new RouteResolver({ maxRoutes: 100, maxRouteLength: 32 });
    const long = `/api/customers/123/${'x'.repeat(8000)}`;
    expect(path(r, long)).toBe('/api/customers/:id/*');
    expect(path(r, long)).toBe('/api/customers/:id/*'); // the second time from the cache: still counted
    expect(path(r, `/api/customers/9/${'y'.repeat(40)}?q=1`)).toBe('/api/customers/:id/*');
    expect(r.truncated).toBe(3);
    expect(path(r, '/api/customers/123/notes')).toBe('/api/customers/:id/notes');
    expect(r.truncated).toBe(3);
    expect(r.size).toBe(2);
    expect(Math.max(...r.names.map((n) => n.length))).toBeLessThanOrEqual(32);
  });

  it('caps application routes (JSON route field, regex route group) the same way', () => {
    const r = new RouteResolver({ maxRoutes: 100, maxRouteLength: 24 });
    expect(route(r, `/api/things/:id/${'z'.repeat(100)}`)).toBe('/api/things/:id/*');
    expect(route(r, `/api/things/:id/${'z'.repeat(100)}`)).toBe('/api/things/:id/*');
    expect(r.truncated).toBe(2);
  });

  it('counts a cut route that overflows max_routes as overflow only', () => {
    const r = new RouteResolver({ maxRoutes: 1, maxRouteLength: 16 });
    expect(path(r, '/short')).toBe('/short');
    expect(r.resolvePath(Buffer.from(`/long/${'a'.repeat(100)}`), 0, 106)).toBe(ROUTE_OTHER);
    expect(r.truncated).toBe(0);
  });

  it('once max_routes is full, unknown ASCII routes are __other__ and known ones (and __none__) still resolve', () => {
    const r = new RouteResolver({ maxRoutes: 3, maxRouteLength: 16 });
    expect(path(r, '/a')).toBe('/a');
    expect(route(r, '/b/:id')).toBe('/b/:id');
    expect(path(r, '/caf\u00e9')).toBe('/caf\u00e9');
    expect(r.size).toBe(3);
    for (let i = 0; i < 20_000; i++) expect(r.resolvePath(Buffer.from(`/x${i}`), 0, `/x${i}`.length)).toBe(ROUTE_OTHER);
    expect(path(r, '/a')).toBe('/a');
    expect(path(r, '/b/7')).toBe('/b/:id');
    expect(route(r, '/b/:id')).toBe('/b/:id');
    expect(route(r, '__none__')).toBe(NONE_ROUTE);
    expect(path(r, '/caf\u00e9')).toBe('/caf\u00e9');
  });

  it('measures characters, not bytes, and never decodes more than it keeps', () => {
    const r = new RouteResolver({ maxRoutes: 100, maxRouteLength: 16 });
    const accented = `/${'\u00e9'.repeat(15)}`; // 16 characters, 31 bytes
    expect(path(r, accented)).toBe(accented);
    expect(path(r, `/${'\u00e9'.repeat(16)}`)).toBe('/*');
    const invalid = Buffer.concat([Buffer.from('/p/'), Buffer.alloc(60_000, 0x80)]); // each byte decodes to U+FFFD
    expect(r.names[r.resolvePath(invalid, 0, invalid.length)]).toBe('/p/*');
    expect(r.truncated).toBe(2);
  });
});
