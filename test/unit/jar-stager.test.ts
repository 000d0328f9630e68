/**
 * JarStager (activities/jar-stager.ts) remembers the jars this worker has seen in an AZ's cache
 * for JAR_SEEN_MS, so the many jobs sharing a popular jar do not each ask the object store again
 * (each ask queued behind the start steps' snapshot lookups on the default demo); a failed copy
 * is not remembered, and after JAR_SEEN_MS the store is asked again.
 */
import { describe, expect, it } from 'vitest';
import { JAR_SEEN_MS, JarStager } from '../../activities/jar-stager.js';
import type { JarArtifact } from '../../domain/types.js';
import { PlatformError } from '../../platform/errors.js';
import type { ObjectStorePort } from '../../platform/ports.js';

const jar = (name: string): JarArtifact => ({ key: `jars/team/${name}.jar`, digest: `sha256:${name.padEnd(64, '0')}`, sizeBytes: 1024 });

/** An object store whose preloadArtifact counts its calls per `az/key` and answers `answer`. */
function store(answer: (az: string, j: JarArtifact, call: number) => Promise<{ copiedBytes: number }>) {
  const calls: string[] = [];
  const objects = {
    preloadArtifact: (az: string, j: JarArtifact) => {
      calls.push(`${az}/${j.key}`);
      return answer(az, j, calls.length);
    },
  } as unknown as ObjectStorePort;
  return { objects, calls };
}

describe('JarStager', () => {
  it('asks the store once per jar and AZ while the jar counts as seen, for copies and ensures alike', async () => {
    const { objects, calls } = store(async () => ({ copiedBytes: 1024 }));
    let now = 1_000_000;
    const stager = new JarStager(objects, () => now);
    expect(await stager.copy('az-b', jar('a'))).toEqual({ copiedBytes: 1024 });
    for (let k = 0; k < 5; k++) expect(await stager.ensure('az-b', jar('a'), `ns/job-${k}`)).toEqual({ copiedBytes: 0 });
    await stager.ensure('az-c', jar('a'), 'ns/job-x');
    await stager.ensure('az-b', jar('b'), 'ns/job-y');
    expect(calls).toEqual(['az-b/jars/team/a.jar', 'az-c/jars/team/a.jar', 'az-b/jars/team/b.jar']);
    // Past JAR_SEEN_MS the store is asked again.
    now += JAR_SEEN_MS - 1;
    await stager.ensure('az-b', jar('a'), 'ns/job-z');
    expect(calls).toHaveLength(3);
    now += 1;
    await stager.ensure('az-b', jar('a'), 'ns/job-z');
    expect(calls).toHaveLength(4);
  });

  it('does not remember a failed copy: the next ask tries again', async () => {
    const { objects, calls } = store(async (_az, _j, call) => {
      if (call === 1) throw new PlatformError('unavailable', 'copy interrupted', true);
      return { copiedBytes: 1024 };
    });
    const stager = new JarStager(objects);
    await expect(stager.copy('az-b', jar('a'))).rejects.toThrow('copy interrupted');
    expect(await stager.copy('az-b', jar('a'))).toEqual({ copiedBytes: 1024 });
    expect(await stager.copy('az-b', jar('a'))).toEqual({ copiedBytes: 0 });
    expect(calls).toHaveLength(2);
  });
});
