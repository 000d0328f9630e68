import { describe, expect, it } from 'vitest';
import { SETTINGS, loadSettings, settingsHelp } from '../../config/settings.js';

describe('settings', () => {
  it('uses the defaults when the environment is empty', () => {
    const s = loadSettings({});
    expect(s.taskQueue).toBe(SETTINGS.taskQueue.default);
    expect(s.timeScale).toBe(1);
  });

  it('reads overrides from the environment, numbers as numbers', () => {
    const s = loadSettings({ AZ_EVAC_TASK_QUEUE: 'q2', AZ_EVAC_TIME_SCALE: '20', AZ_EVAC_STATE: '' });
    expect(s.taskQueue).toBe('q2');
    expect(s.timeScale).toBe(20);
    expect(s.stateDir).toBe(SETTINGS.stateDir.default);
  });

  it('rejects a non-numeric or negative number, naming the variable, the value and the fix', () => {
    expect(() => loadSettings({ AZ_EVAC_TIME_SCALE: 'fast' })).toThrow(/AZ_EVAC_TIME_SCALE="fast" is not a number ≥ 0\. Fix: .*default 1/);
    expect(() => loadSettings({ AZ_EVAC_PRELOAD_CONCURRENCY: '-3' })).toThrow(/AZ_EVAC_PRELOAD_CONCURRENCY="-3"/);
  });

  it('documents every variable in the help text', () => {
    const help = settingsHelp();
    for (const spec of Object.values(SETTINGS)) expect(help).toContain(spec.env);
  });
});
