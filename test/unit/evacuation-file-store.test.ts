/**
 * FileEvacuationStore under the process's open-file limit: listing the fences of a big run
 * reads its files a bounded number at a time (each read holds an open file; reading 15,057 at
 * once failed with EMFILE at 20,000 jobs). The store runs in a child process started with
 * `ulimit -n 256` and lists 1,000 fences.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CHILD = new URL('./fixtures/list-fences-child.ts', import.meta.url).pathname;

describe('FileEvacuationStore.listFences', () => {
  it('lists 1,000 fences of one run in a process allowed 256 open files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fences-'));
    try {
      const { stdout } = await run('bash', ['-c', `ulimit -n 256 && exec "${process.execPath}" --import tsx "${CHILD}" "${dir}" 1000`], { cwd: process.cwd() });
      expect(stdout.trim()).toBe('1000');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
