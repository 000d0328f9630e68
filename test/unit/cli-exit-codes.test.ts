/**
 * The CLI's exit-code mapping (cli/exit-codes.ts) and its mode decision (cli/evacuate-mode.ts):
 * pure functions over errors and options.
 */
import { CommanderError, InvalidArgumentError } from 'commander';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { EvacuationRequestConflict } from '../../client/evacuation-client.js';
import { SearchAttributeTypeMismatch } from '../../client/search-attributes.js';
import { TemporalUnreachableError } from '../../client/temporal-connection.js';
import { confirmMode, decideMode } from '../../cli/evacuate-mode.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from '../../cli/exit-codes.js';
import { PlatformError } from '../../platform/errors.js';

const wrapped = (inner: unknown): Error => new Error('outer', { cause: inner });

describe('exitCodeFor', () => {
  it.each([
    ['help and --version', new CommanderError(0, 'commander.helpDisplayed', '(help)'), EXIT.ok],
    ['a usage error', new CommanderError(1, 'commander.unknownOption', "error: unknown option '--frmo'"), EXIT.badInput],
    ['a bad option value or setting', new InvalidArgumentError('"abc" is not a positive number'), EXIT.badInput],
    ['a press that differs from the running evacuation', new EvacuationRequestConflict('e', 'r', { mode: 'drill' }, ['mode: running drill, yours emergency']), EXIT.badInput],
    ['an unknown id', new WorkflowNotFoundError('workflow not found', 'nope', undefined), EXIT.badInput],
    ['a control the run refuses', wrapped(new WorkflowUpdateFailedError('Workflow Update failed', new Error('already paused'))), EXIT.badInput],
    ['Temporal unreachable at connect', new TemporalUnreachableError('cannot reach Temporal at 127.0.0.1:1'), EXIT.unreachable],
    ['Temporal gone after connect (gRPC UNAVAILABLE)', wrapped(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 })), EXIT.unreachable],
    ['a deadline exceeded (gRPC 4)', Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }), EXIT.unreachable],
    ['the S3 state store refusing connections', wrapped(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })), EXIT.unreachable],
    ['a platform that does not answer', new PlatformError('unavailable', 'AZ az-a: API server does not answer', true), EXIT.unreachable],
    ['a platform that refuses (not unreachable)', new PlatformError('forbidden', 'RBAC', false), EXIT.unexpected],
    ['a namespace that does not exist (gRPC NOT_FOUND under the setup error)', new Error('Temporal namespace "x" does not exist', { cause: Object.assign(new Error('5 NOT_FOUND: Namespace x is not found'), { code: 5 }) }), EXIT.badInput],
    ['credentials refused (gRPC PERMISSION_DENIED)', Object.assign(new Error('7 PERMISSION_DENIED'), { code: 7 }), EXIT.badInput],
    ['a search attribute of another type', new SearchAttributeTypeMismatch('AzEvacMode is Text, az-evac needs Keyword'), EXIT.badInput],
    ['a failed workflow (evacuation failed)', new WorkflowFailedError('Workflow execution failed', new Error('capacity of az-b'), RetryState.NON_RETRYABLE_FAILURE), EXIT.failed],
    ['anything else', new TypeError("Cannot read properties of undefined (reading 'x')"), EXIT.unexpected],
    ['a thrown string', 'boom', EXIT.unexpected],
  ])('%s → %s', (_what, err, code) => {
    expect(exitCodeFor(err)).toBe(code);
  });

  it('the help table lists every code once', () => {
    for (const code of Object.values(EXIT)) expect(EXIT_CODES_HELP).toMatch(new RegExp(`^ {2}${code} `, 'm'));
    expect(new Set(Object.values(EXIT)).size).toBe(Object.values(EXIT).length);
  });
});

describe('decideMode / confirmMode', () => {
  const base = { from: 'az-a', interactive: false };
  it('starts a non-emergency mode at once, and an emergency with --yes', () => {
    expect(decideMode({ ...base, mode: 'drill' })).toEqual({ kind: 'start', mode: 'drill' });
    expect(decideMode({ ...base, mode: 'emergency', yes: true })).toEqual({ kind: 'start', mode: 'emergency' });
    expect(decideMode({ ...base, dryRun: true })).toEqual({ kind: 'start', mode: 'emergency' });
  });

  it('refuses, naming the fix, when nobody can confirm', () => {
    expect(() => decideMode(base)).toThrow(/needs --mode \(drill \| emergency \| planned\).*Fix: pass --mode drill .* or --mode emergency --yes to evacuate az-a now/);
    expect(() => decideMode({ ...base, mode: 'emergency' })).toThrow(/Fix: add --yes/);
    expect(() => decideMode({ ...base, yes: true, interactive: true })).toThrow(/--yes without --mode/);
  });

  it('asks on a terminal (with or without --mode emergency) and accepts only the source AZ', () => {
    for (const mode of [undefined, 'emergency' as const]) {
      const d = decideMode({ ...base, mode, interactive: true });
      expect(d).toMatchObject({ kind: 'confirm', mode: 'emergency', expected: 'az-a' });
      if (d.kind !== 'confirm') throw new Error('unreachable');
      expect(d.question.startsWith('No --mode given.')).toBe(mode === undefined);
      expect(confirmMode(d, 'az-a\n')).toBe('emergency');
      expect(() => confirmMode(d, 'yes')).toThrow(InvalidArgumentError);
      expect(() => confirmMode(d, '')).toThrow(/confirmation typed "", not the source AZ "az-a": nothing was started/);
    }
  });
});
