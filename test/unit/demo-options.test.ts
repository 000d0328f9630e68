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
});
