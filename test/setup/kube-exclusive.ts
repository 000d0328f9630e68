/**
 * setupFiles of the `kube` vitest project: one test file at a time holds the shared local
 * control plane. The kube files share a worker pool with the `temporal` project's files (two
 * files run at once, vitest.config.ts), and they stop and start the shared apiservers
 * (faults, drill cycles) and count their resources, so two of them must never overlap: each
 * file takes a lock before its own hooks and tests run and gives it back after them.
 *
 * The lock is a file created exclusively (`wx`) in the control plane's state dir holding the
 * owner's pid; a lock whose owner process is gone (a killed fork) is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { testControlPlane } from './kube.js';

/** How long a file may wait for the lock, ms: longer than the slowest kube file (faults, ~3 min). */
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
 * @throws Error naming the holder's pid after WAIT_MS
 */
async function acquire(path: string): Promise<void> {
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
    else if (Date.now() > deadline) throw new Error(`kube control plane still held by pid ${holder} after ${WAIT_MS / 1000} s (${path}); a test file that hangs holds it: see that file's output`);
    else await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const lockPath = join(testControlPlane().stateDir, 'test-file.lock');

beforeAll(() => acquire(lockPath), WAIT_MS + 60_000);

afterAll(async () => {
  if (Number(await readFile(lockPath, 'utf8').catch(() => '')) === process.pid) await rm(lockPath, { force: true });
});
