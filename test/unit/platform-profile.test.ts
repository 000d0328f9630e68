/** The k8s platform profile file (platform/kube/platform-profile.ts): read, validated, errors name the file and key. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlatformProfile } from '../../platform/kube/platform-profile.js';
import { loadExampleTemplates } from '../../simulator/example-manifests.js';
import { generateFleet } from '../../simulator/fleet-generator.js';

describe('loadPlatformProfile', () => {
  it('reads a valid profile and rejects a bad one naming the file, the key and the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'az-evac-profile-'));
    const good = join(dir, 'platform.json');
    const { platform } = generateFleet({ jobs: 4, seed: 1, templates: loadExampleTemplates() });
    await writeFile(good, JSON.stringify(platform));
    expect(await loadPlatformProfile(good)).toEqual(platform);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...platform, azs: [platform.azs[0]] }));
    await expect(loadPlatformProfile(bad)).rejects.toThrow(/bad\.json.*platform\.azs.*Fix/s);
    await expect(loadPlatformProfile(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json.*AZ_EVAC_PLATFORM_PROFILE/);
    const [a, b] = platform.azs.map((z) => z.name);
    const unreplicated = join(dir, 'unreplicated.json');
    await writeFile(unreplicated, JSON.stringify({ ...platform, notReplicated: [{ from: a, to: b }] }));
    expect((await loadPlatformProfile(unreplicated)).notReplicated).toEqual([{ from: a, to: b }]);
    const badPair = join(dir, 'bad-pair.json');
    await writeFile(badPair, JSON.stringify({ ...platform, notReplicated: [{ from: a, to: 'az-x' }, { from: b, to: b }] }));
    await expect(loadPlatformProfile(badPair)).rejects.toThrow(new RegExp(`platform\\.notReplicated\\[0\\]\\.to: 'az-x' is not an AZ of platform\\.azs\\. Fix: use one of: ${a}, ${b}`));
    await expect(loadPlatformProfile(badPair)).rejects.toThrow(/platform\.notReplicated\[1\]: from and to are both/);
  });
});
