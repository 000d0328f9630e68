import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIERS_FILE, onPlatformClock, parseTiersPolicy } from '../../domain/tiers-policy.js';
import { DEFAULT_HEARTBEAT_TIMEOUTS } from '../../domain/types.js';
import { ConfigValidationError } from '../../domain/validation-error.js';
import { NO_PROTECTION } from '../../domain/protection.js';

const FILE = 'tiers.yaml';
const DEFAULT_TEXT = readFileSync(new URL(`../../${DEFAULT_TIERS_FILE}`, import.meta.url), 'utf8');

/** Runs parseTiersPolicy and returns the ConfigValidationError it must throw. */
function rejection(text: string): ConfigValidationError {
  try {
    parseTiersPolicy(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected parseTiersPolicy to throw');
}

/** Applies one textual mutation, failing if it did not change the text. */
function mutate(from: string | RegExp, to: string): string {
  const text = DEFAULT_TEXT.replace(from, to);
  expect(text, `mutation ${String(from)} must apply`).not.toBe(DEFAULT_TEXT);
  return text;
}

describe('parseTiersPolicy', () => {
  it('parses the repository tiers.yaml to the documented defaults', () => {
    const policy = parseTiersPolicy(DEFAULT_TEXT, FILE);
    expect(policy.admissionOrder).toEqual(['P0', 'P1', 'P2', 'P3']);
    expect(policy.borrowIdleSlots).toBe(true);
    expect(policy.fenceIntervalSeconds).toBe(10);
    expect(policy.fenceObserveSeconds).toBe(60);
    expect(policy.timeScale).toBe(1);
    expect(policy.tiers.P0).toEqual({
      tier: 'P0', strategy: 'promote-standby', rtoSeconds: 60, rpoSeconds: 300, maxConcurrency: 500,
      onNoSnapshot: 'fail', preemptible: false, startupTimeoutSeconds: 600,
    });
    expect(policy.tiers.P1).toMatchObject({ tier: 'P1', strategy: 'resume-standby', rtoSeconds: 420, rpoSeconds: 900 });
    expect(policy.tiers.P2).toMatchObject({ tier: 'P2', strategy: 'redeploy', rtoSeconds: 540, rpoSeconds: 1800, maxConcurrency: 2000 });
    expect(policy.tiers.P3).toMatchObject({ tier: 'P3', strategy: 'redeploy', onNoSnapshot: 'restore-stateless', preemptible: true });
    for (const [tier, p] of Object.entries(policy.tiers)) {
      expect(p.tier).toBe(tier);
      expect(p.rpoSeconds).toBeGreaterThan(0);
      expect(Number.isInteger(p.maxConcurrency) && p.maxConcurrency >= 1).toBe(true);
    }
  });

  it('reads the heartbeat timeouts, which are optional (the defaults then apply)', () => {
    expect(parseTiersPolicy(DEFAULT_TEXT, FILE).heartbeatTimeoutSeconds).toEqual(DEFAULT_HEARTBEAT_TIMEOUTS);
    const short = parseTiersPolicy(mutate(/startStep: 60\n {2}startupWaitMin: 30/, 'startStep: 10\n  startupWaitMin: 5'), FILE);
    expect(short.heartbeatTimeoutSeconds).toEqual({ startStep: 10, startupWaitMin: 5 });
    const without = parseTiersPolicy(mutate(/heartbeatTimeoutSeconds:\n {2}startStep: 60\n {2}startupWaitMin: 30\n/, ''), FILE);
    expect(without.heartbeatTimeoutSeconds).toBeUndefined();
  });

  it('accepts any valid strategy on any tier and a custom admission order', () => {
    const text = DEFAULT_TEXT.replace('strategy: promote-standby', 'strategy: redeploy').replace('[P0, P1, P2, P3]', '[P1, P0, P3, P2]');
    const policy = parseTiersPolicy(text, FILE);
    expect(policy.tiers.P0.strategy).toBe('redeploy');
    expect(policy.admissionOrder).toEqual(['P1', 'P0', 'P3', 'P2']);
  });

  const bad: Array<{ name: string; text: () => string; path: string | RegExp; problem: RegExp; fix: RegExp }> = [
    {
      name: 'unknown key (typo) suggests the closest key',
      text: () => mutate('maxConcurrency: 2000', 'maxConcurency: 2000'),
      path: 'tiers.P2.maxConcurency',
      problem: /unknown key 'maxConcurency'/,
      fix: /rename 'maxConcurency' to 'maxConcurrency'.*allowed keys here: strategy, rtoSeconds/,
    },
    {
      name: 'unknown top-level key without a close match names the allowed keys',
      text: () => mutate('borrowIdleSlots: true', 'borrowIdleSlots: true\nshuffle: 3'),
      path: 'shuffle',
      problem: /unknown key 'shuffle'/,
      fix: /remove 'shuffle' \(allowed keys here: admissionOrder, borrowIdleSlots, fenceIntervalSeconds, fenceObserveSeconds, heartbeatTimeoutSeconds, savepointTimeout, protection, tiers\)/,
    },
    {
      name: 'missing tier',
      text: () => mutate(/ {2}# Low priority[\s\S]*$/, ''),
      path: 'tiers.P3',
      problem: /required key is missing/,
      fix: /add 'P3' with keys strategy, rtoSeconds, rpoSeconds, maxConcurrency.* under tiers/,
    },
    {
      name: 'negative number',
      text: () => mutate('rtoSeconds: 540', 'rtoSeconds: -30'),
      path: 'tiers.P2.rtoSeconds',
      problem: /must be > 0, got -30/,
      fix: /set tiers\.P2\.rtoSeconds to a number > 0/,
    },
    {
      name: 'strategy that does not exist',
      text: () => mutate('strategy: resume-standby', 'strategy: resume-standy'),
      path: 'tiers.P1.strategy',
      problem: /'resume-standy' is not an allowed value/,
      fix: /use one of: promote-standby, resume-standby, redeploy \(did you mean 'resume-standby'\?\)/,
    },
    {
      name: 'duplicate tier in admissionOrder',
      text: () => mutate('[P0, P1, P2, P3]', '[P0, P1, P1, P3]'),
      path: 'admissionOrder[2]',
      problem: /P1 is listed twice \(also at admissionOrder\[1\]\)/,
      fix: /list each of P0, P1, P2, P3 exactly once/,
    },
    {
      name: 'zero concurrency',
      text: () => mutate('maxConcurrency: 2000', 'maxConcurrency: 0'),
      path: 'tiers.P2.maxConcurrency',
      problem: /must be ≥ 1, got 0/,
      fix: /set tiers\.P2\.maxConcurrency to an integer ≥ 1/,
    },
    {
      name: 'fractional concurrency',
      text: () => mutate('maxConcurrency: 2000', 'maxConcurrency: 2.5'),
      path: 'tiers.P2.maxConcurrency',
      problem: /must be an integer, got 2\.5/,
      fix: /set tiers\.P2\.maxConcurrency to an integer/,
    },
    {
      name: 'heartbeat timeout too short to heartbeat within',
      text: () => mutate('startStep: 60', 'startStep: 1'),
      path: 'heartbeatTimeoutSeconds.startStep',
      problem: /must be ≥ 3, got 1/,
      fix: /heartbeatTimeoutSeconds\.startStep/,
    },
    {
      name: 'unknown tier in admissionOrder',
      text: () => mutate('[P0, P1, P2, P3]', '[P0, P1, P2, P9]'),
      path: 'admissionOrder[3]',
      problem: /'P9' is not an allowed value/,
      fix: /^use one of: P0, P1, P2, P3$/,
    },
    {
      name: 'protection of an unknown tier',
      text: () => mutate('tiers: [P1, P2]', 'tiers: [P1, P7]'),
      path: 'protection.tiers[1]',
      problem: /'P7' is not an allowed value/,
      fix: /^use one of: P0, P1, P2, P3$/,
    },
    {
      name: 'protection refresh point beyond the RPO',
      text: () => mutate('refreshAtRpoFraction: 0.5', 'refreshAtRpoFraction: 1.5'),
      path: 'protection.refreshAtRpoFraction',
      problem: /must be ≤ 1, got 1\.5/,
      fix: /protection\.refreshAtRpoFraction/,
    },
    {
      name: 'no savepoint allowed at once',
      text: () => mutate('savepointsAtOncePerAz: 2', 'savepointsAtOncePerAz: 0'),
      path: 'protection.savepointsAtOncePerAz',
      problem: /must be ≥ 1, got 0/,
      fix: /protection\.savepointsAtOncePerAz/,
    },
    {
      name: 'unknown savepoint format',
      text: () => mutate('savepointFormat: native', 'savepointFormat: incremental'),
      path: 'protection.savepointFormat',
      problem: /'incremental' is not an allowed value/,
      fix: /native, canonical/,
    },
    {
      name: 'retention keeping nothing',
      text: () => mutate('keepPerJob: 2', 'keepPerJob: 0'),
      path: 'protection.retention.keepPerJob',
      problem: /must be ≥ 1, got 0/,
      fix: /keepPerJob/,
    },
    {
      name: 'YAML syntax error',
      text: () => mutate('admissionOrder: [P0, P1, P2, P3]', 'admissionOrder: [P0, P1, P2, P3'),
      path: /line \d+, column \d+/,
      problem: /YAML syntax error/,
      fix: /correct the YAML at that position/,
    },
    {
      name: 'duplicate YAML key',
      text: () => mutate('borrowIdleSlots: true', 'borrowIdleSlots: true\nborrowIdleSlots: false'),
      path: /line \d+, column 1/,
      problem: /DUPLICATE_KEY/,
      fix: /duplicate keys/,
    },
  ];

  it.each(bad)('rejects: $name', ({ text, path, problem, fix }) => {
    const err = rejection(text());
    expect(err.file).toBe(FILE);
    const pathRe = typeof path === 'string' ? path.replace(/[.[\]]/g, '\\$&') : path.source;
    const issue = err.issues.find((i) => new RegExp(`^${pathRe}$`).test(i.path));
    expect(issue, `issues: ${err.message}`).toBeDefined();
    expect(issue!.message).toMatch(problem);
    expect(issue!.fix).toMatch(fix);
    // The rendered message names file, key path, problem and fix on one line.
    expect(err.message.split('\n')).toContain(`tiers.yaml: ${issue!.path}: ${issue!.message}. Fix: ${issue!.fix}`);
  });

  it('reads the protection block, optional keys from NO_PROTECTION, and no block means no tier protected', () => {
    expect(parseTiersPolicy(DEFAULT_TEXT, FILE).protection).toEqual({
      tiers: ['P1', 'P2'], refreshAtRpoFraction: 0.5, savepointsAtOncePerAz: 2, savepointFormat: 'native', savepointTimeoutSeconds: 600,
      retry: { attempts: 3, initialBackoffSeconds: 30 }, retention: { keepPerJob: 2 },
    });
    const minimal = DEFAULT_TEXT.replace(/\nprotection:\n( {2}.*\n)+/, '\nprotection:\n  tiers: [P2]\n');
    expect(minimal).not.toBe(DEFAULT_TEXT);
    expect(parseTiersPolicy(minimal, FILE).protection).toEqual({ ...NO_PROTECTION, tiers: ['P2'] });
    const none = DEFAULT_TEXT.replace(/\nprotection:\n( {2}.*\n)+/, '\n');
    expect(parseTiersPolicy(none, FILE).protection).toBeUndefined();
    const scaled = onPlatformClock(parseTiersPolicy(DEFAULT_TEXT, FILE), 10).protection!;
    expect(scaled).toMatchObject({ savepointTimeoutSeconds: 60, retry: { attempts: 3, initialBackoffSeconds: 3 }, savepointsAtOncePerAz: 2 });
  });

  it('a renamed key is reported once, not also as missing', () => {
    const err = rejection(mutate('maxConcurrency: 2000', 'maxConcurency: 2000'));
    expect(err.issues.map((i) => i.path)).toEqual(['tiers.P2.maxConcurency']);
  });

  it('reports every schema problem at once, one line each', () => {
    const text = mutate('maxConcurrency: 2000', 'maxConcurrency: 0').replace('onNoSnapshot: restore-stateless', 'onNoSnapshot: retry');
    const err = rejection(text);
    expect(err.issues.map((i) => i.path).sort()).toEqual(['tiers.P2.maxConcurrency', 'tiers.P3.onNoSnapshot']);
    expect(err.message.split('\n')).toHaveLength(2);
  });

  it('rejects an empty document', () => {
    const err = rejection('');
    expect(err.message).toMatch(/^tiers\.yaml: \(root\): must be an object, got null\. Fix: make the document an object$/);
  });
});

describe('onPlatformClock', () => {
  const policy = parseTiersPolicy(readFileSync(DEFAULT_TIERS_FILE, 'utf8'), DEFAULT_TIERS_FILE);

  it('divides every duration by the time scale once and records the scale; counts and choices stay', () => {
    const fast = onPlatformClock(policy, 20);
    expect(fast.timeScale).toBe(20);
    expect(fast.fenceIntervalSeconds).toBe(policy.fenceIntervalSeconds / 20);
    expect(fast.fenceObserveSeconds).toBe(policy.fenceObserveSeconds / 20);
    expect(fast.tiers.P1).toEqual({
      ...policy.tiers.P1,
      rtoSeconds: policy.tiers.P1.rtoSeconds / 20, rpoSeconds: policy.tiers.P1.rpoSeconds / 20, startupTimeoutSeconds: policy.tiers.P1.startupTimeoutSeconds / 20,
    });
    expect(fast.savepointTimeout).toEqual({ baseSeconds: 120 / 20, secondsPerGiB: 60 / 20 });
    expect(onPlatformClock(fast, 20)).toBe(fast);
    expect(onPlatformClock(fast, 40).tiers.P1.rtoSeconds).toBe(policy.tiers.P1.rtoSeconds / 40);
  });

  it('leaves a real platform\'s policy as written', () => {
    expect(onPlatformClock(policy, 1)).toBe(policy);
    expect(policy.timeScale).toBe(1);
  });

  it('refuses a scale that is not a number > 0, naming the setting', () => {
    expect(() => onPlatformClock(policy, 0)).toThrow(/AZ_EVAC_TIME_SCALE/);
    expect(() => onPlatformClock(policy, Number.NaN)).toThrow(/not a number > 0/);
  });
});
