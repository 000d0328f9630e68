/** One evacuation at a time per AZ, the pure part (domain/az-hold.ts): which AZs, in what order, who may override, and what a refusal says. */
import { describe, expect, it } from 'vitest';
import { azBusyMessage, azHoldWorkflowId, azsToHold, mayOverrideHold, type AzHolder } from '../../domain/az-hold.js';

const holder: AzHolder = { workflowId: 'drill-weekly-1', kind: 'drill', mode: 'drill', sourceAz: 'az-b', targetAz: 'az-a', sinceMs: Date.UTC(2026, 11, 6, 3, 0), requestedBy: 'schedule' };

describe('AZ holds', () => {
  it('holds source and target once each, in one sorted order whoever takes them', () => {
    expect(azsToHold({ sourceAz: 'az-b', targetAz: 'az-a' })).toEqual(['az-a', 'az-b']);
    expect(azsToHold({ sourceAz: 'az-a', targetAz: 'az-b' })).toEqual(['az-a', 'az-b']);
    expect(azsToHold({ sourceAz: 'az-c', targetAz: 'az-c' })).toEqual(['az-c']);
  });

  it('keeps deployments (task queues) apart', () => {
    expect(azHoldWorkflowId('az-evac', 'az-a')).toBe('az-evac-hold/az-evac/az-a');
    expect(azHoldWorkflowId('other', 'az-a')).not.toBe(azHoldWorkflowId('az-evac', 'az-a'));
  });

  it('lets only an emergency run beside a holder', () => {
    expect(mayOverrideHold('emergency')).toBe(true);
    expect(mayOverrideHold('planned')).toBe(false);
    expect(mayOverrideHold('drill')).toBe(false);
  });

  it('names the holder, since when, who asked, and the fix that fits the mode', () => {
    const emergency = azBusyMessage({ kind: 'evacuation', mode: 'emergency', sourceAz: 'az-a', targetAz: 'az-b' }, 'az-a', holder, 'az-evac-hold/q/az-a');
    expect(emergency).toBe('emergency evacuation az-a → az-b refused: az-a is in use by drill drill-weekly-1 (az-b → az-a, running since 2026-12-06T03:00:00.000Z, requested by schedule). '
      + "Fix: wait for it to end (az-evac status drill-weekly-1), abort it, or run beside it with --override-running (the running one's capacity plan did not count on yours)");
    const drill = azBusyMessage({ kind: 'drill', mode: 'drill', sourceAz: 'az-a', targetAz: 'az-b' }, 'az-b', undefined, 'az-evac-hold/q/az-b');
    expect(drill).toMatch(/^drill az-a → az-b refused: az-b is in use by the evacuation or drill behind workflow az-evac-hold\/q\/az-b\. Fix: wait for it to end/);
    expect(drill).not.toMatch(/override/);
  });
});
