/**
 * One test file at a time for a shared resource, while vitest runs two files at once
 * (vitest.config.ts): `holdExclusively(lockPath, what)` at a file's top level, before its own
 * hooks, takes a lock before the file's hooks and tests run and gives it back after them.
 * Used for the kube control plane (./kube-exclusive.ts: kube files stop and start the shared
 * apiservers) and for the console's deterministic drill evacuation id on the shared dev
 * server (two files that trigger it at once would join each other's run).
 *
 * The lock is a file created exclusively (`wx`) holding the owner's pid; a lock whose owner
 * process is gone (a killed fork) is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { testTemporalAddress } from './temporal.js';

/** How long a file may wait for a lock, ms: longer than the slowest holder (kube faults, ~3 min). */
const WAIT_MS = 15 * 60_000;
/** Poll interval while another file holds the lock, ms. */
const POLL_MS = 250;

/** Whether process `pid` exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the lock file at `path` for this process.
 * @throws Error naming `what` and the holder's pid after WAIT_MS
 */
async function acquire(path: string, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = await open(path, 'wx');
      await fd.writeFile(String(process.pid));
      await fd.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(await readFile(path, 'utf8').catch(() => ''));
    // An empty file is a holder between open and write: wait for it like any holder.
    if (holder > 0 && !alive(holder)) await rm(path, { force: true });
    else if (Date.now() > deadline) throw new Error(`${what} still held by pid ${holder} after ${WAIT_MS / 1000} s (${path}); a test file that hangs holds it: see that file's output`);
    else await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Hold the lock file `lockPath` (naming `what` in errors) from before this file's hooks to after them. */
export function holdExclusively(lockPath: string, what: string): void {
  beforeAll(() => acquire(lockPath, what), WAIT_MS + 60_000);
  afterAll(async () => {
    if (Number(await readFile(lockPath, 'utf8').catch(() => '')) === process.pid) await rm(lockPath, { force: true });
  });
}

/**
 * The lock path of the console's drill evacuation id (`az-evac-drill-az-a-to-az-b`) on this
 * run's dev server: test files that trigger it through the console hold it.
 */
export function consoleDrillIdLock(): string {
  return join(tmpdir(), `az-evac-test-${testTemporalAddress().replace(/[^0-9a-z]+/gi, '-')}-console-drill-id.lock`);
}
