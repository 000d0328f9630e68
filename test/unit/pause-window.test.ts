import { describe, expect, it } from 'vitest';
import { inPauseWindow, parsePauseWindow, pauseWindowCalendars } from '../../domain/pause-window.js';

describe('pause windows', () => {
  it.each([
    '2026-12-20T00:00Z/2027-01-04T00:00Z',
    '2026-11-26T03:17Z/2026-11-26T03:42Z',
    '2026-11-26T22:30Z/2026-11-28T01:15Z',
    '2026-02-27T10:00Z/2026-03-02T00:00Z',
  ])('skip calendars of %s cover exactly its minutes', (text) => {
    const w = parsePauseWindow(text);
    const cals = pauseWindowCalendars(w);
    expect(cals.length).toBeLessThan(20);
    for (let t = w.fromMs - 3 * 3600_000; t < w.toMs + 3 * 3600_000; t += 60_000) {
      if (inPauseWindow(cals, t) !== (t >= w.fromMs && t < w.toMs)) throw new Error(`${new Date(t).toISOString()} wrongly ${inPauseWindow(cals, t) ? 'skipped' : 'not skipped'}`);
    }
    // whole days are merged into one entry per month
    if (text.startsWith('2026-12-20')) expect(cals).toEqual([
      expect.objectContaining({ year: 2026, month: 'DECEMBER', dayOfMonth: { start: 20, end: 31 }, hour: '*', minute: '*' }),
      expect.objectContaining({ year: 2027, month: 'JANUARY', dayOfMonth: { start: 1, end: 3 }, hour: '*', minute: '*' }),
    ]);
  });

  it.each([
    ['2026-12-20', /is not FROM\/TO/],
    ['2026-12-20T00:00/2026-12-21T00:00', /not a time with a zone/],
    ['2026-12-21T00:00Z/2026-12-20T00:00Z', /TO is not after FROM/],
    ['2026-01-01T00:00Z/2027-06-01T00:00Z', /longer than 366 days/],
    ['2026-12-20T00:00:30Z/2026-12-21T00:00Z', /whole minutes/],
  ])('rejects %s', (text, message) => {
    expect(() => parsePauseWindow(text)).toThrow(message);
  });
});
