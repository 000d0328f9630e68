/**
 * `az-evac demo --platform k8s --no-s3` is refused before anything starts: the k8s platform
 * reads checkpoints, savepoints and jars from S3 only (cli/demo.ts).
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/demo.js';

describe('demo options', () => {
  it('--platform k8s --no-s3 is refused with the reason and the fix, starting nothing', async () => {
    const lines: string[] = [];
    await expect(runDemo({
      jobs: 10, seed: 1, timeScale: 10, preload: true, s3: false, platform: 'k8s', log: (l) => lines.push(l),
      onReport: () => Promise.reject(new Error('not reached')),
    })).rejects.toThrow(/^--platform k8s --no-s3: the k8s platform reads checkpoints, savepoints and jars from S3 only .*Fix: drop --no-s3$/);
    expect(lines).toEqual([]);
  });

  it('--platform k8s --replication-outage is refused with the reason and the fix, starting nothing', async () => {
    const lines: string[] = [];
    await expect(runDemo({
      jobs: 10, seed: 1, timeScale: 10, preload: true, s3: true, platform: 'k8s', replicationOutage: true, log: (l) => lines.push(l),
      onReport: () => Promise.reject(new Error('not reached')),
    })).rejects.toThrow(/^--platform k8s --replication-outage: .*Fix: drop --platform k8s .* or --replication-outage$/);
    expect(lines).toEqual([]);
  });

  it('--max-state-gb outside 0.1–500 is refused with the value and the fix, starting nothing', async () => {
    const lines: string[] = [];
    for (const gb of [0.01, 501]) {
      await expect(runDemo({
        jobs: 10, seed: 1, timeScale: 10, preload: true, s3: true, replicationOutage: true, maxStateBytes: gb * 1e9, log: (l) => lines.push(l),
        onReport: () => Promise.reject(new Error('not reached')),
      })).rejects.toThrow(new RegExp(`^--max-state-gb ${gb}: a generated job's state is 0\\.1–500 GB\\. Fix: pass a number of GB from 0\\.1 to 500`));
    }
    expect(lines).toEqual([]);
  });
});
