/** The continue-as-new budget (domain/history-budget.ts): default, range, the error's value and fix, when a run is full. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS, continueAsNewAfterEvents, historyFull } from '../../domain/history-budget.js';

describe('history budget', () => {
  it('defaults to 4,000 events and accepts integers from 20 to 10,240', () => {
    expect(continueAsNewAfterEvents(undefined)).toBe(DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS);
    expect(DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS).toBe(4_000);
    expect(continueAsNewAfterEvents(20)).toBe(20);
    expect(continueAsNewAfterEvents(10_240)).toBe(10_240);
  });

  it.each([0, 19, 10_241, 40.5, Number.NaN])('refuses %s, naming the value and the fix', (bad) => {
    expect(() => continueAsNewAfterEvents(bad)).toThrow(new RegExp(`continueAsNewAfterEvents = ${String(bad)} is not an integer from 20 to 10240\\. Fix: leave it out \\(default 4000\\)`));
  });

  it('a run is full at its budget or when the server suggests continue-as-new', () => {
    expect(historyFull(19, false, 20)).toBe(false);
    expect(historyFull(20, false, 20)).toBe(true);
    expect(historyFull(5, true, 20)).toBe(true);
  });
});
