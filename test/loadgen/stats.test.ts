import { describe, expect, it } from 'vitest';
import { Histogram, StatusCounts } from '../../src/loadgen/stats.js';

describe('Histogram', () => {
  it('is empty-safe', () => {
    expect(new Histogram().summary()).toEqual({ count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it.each([
    [0.5, 500],
    [0.95, 950],
    [0.99, 990],
    [1, 1000],
  ])('quantile %d of 1..1000 ms is within 1%% of %d', (q, exact) => {
    const h = new Histogram();
    for (let i = 1000; i >= 1; i--) h.record(i);
    expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.01);
  });

  it('keeps exact count, min, max, mean and merges', () => {
    const a = new Histogram();
    const b = new Histogram();
    [0.2, 3, 7].forEach((v) => a.record(v));
    [100].forEach((v) => b.record(v));
    a.merge(b);
    expect(a.count).toBe(4);
    expect(a.min).toBe(0.2);
    expect(a.max).toBe(100);
    expect(a.mean).toBeCloseTo(27.55, 5);
    expect(Math.abs(a.quantile(0.01) - 0.2) / 0.2).toBeLessThanOrEqual(0.01);
  });
});

describe('StatusCounts', () => {
  it('counts statuses and responses-less requests separately', () => {
    const s = new StatusCounts();
    [200, 200, 404, 500, undefined].forEach((x) => s.add(x));
    expect(s.byStatus).toEqual({ 200: 2, 404: 1, 500: 1 });
    expect(s.networkErrors).toBe(1);
    expect(s.responses).toBe(4);
    expect(s.count((x) => x >= 400)).toBe(2);
  });
});
