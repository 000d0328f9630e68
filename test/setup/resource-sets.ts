/**
 * Guarantee 4 (nothing leaked), the comparison shared by the simulator's and the real
 * apiservers' leak checks: what each AZ holds as sorted sets of lines, and the lines that
 * differ between two snapshots. Pure; reading the sets is resource-readers.ts.
 */

/** What one AZ holds, each a sorted list of comparable lines. */
export interface AzResources {
  /** `namespace/name <spec.job.state> <az-evac.io/role or ->` per FlinkDeployment. */
  deployments: string[];
  /** HA ConfigMaps (label configmap-type=high-availability): `namespace/name` of each set or ConfigMap. */
  haConfigMaps: string[];
  /** Object keys of the AZ's jar cache (artifact bucket). */
  jarCache: string[];
}

/** Resources per AZ name. */
export type ResourceSets = Record<string, AzResources>;

/** The line of one FlinkDeployment: key, spec.job.state (absent = running), role label (absent = `-`). */
export function deploymentLine(namespace: string, name: string, state: unknown, role: string | undefined): string {
  return `${namespace}/${name} ${String(state ?? 'running')} ${role ?? '-'}`;
}

/** Lines in `a` not in `b`, prefixed `-`, and in `b` not in `a`, prefixed `+`. */
function diff(a: string[], b: string[]): string[] {
  const sb = new Set(b);
  const sa = new Set(a);
  return [...a.filter((x) => !sb.has(x)).map((x) => `- ${x}`), ...b.filter((x) => !sa.has(x)).map((x) => `+ ${x}`)];
}

/**
 * Differences between `before` and `now`, one line each (`<az> FlinkDeployment - <line>`,
 * `<az> HA ConfigMaps + <key>`, …); empty when equal. The jar cache is compared only when
 * `jars` is given, against it (the policy keeps preloaded jars: the reference is the cache
 * after the first cycle, later cycles must not grow it).
 */
export function resourceDifferences(before: ResourceSets, now: ResourceSets, jars?: ResourceSets): string[] {
  return Object.keys(before).flatMap((az) => [
    ...diff(before[az]!.deployments, now[az]?.deployments ?? []).map((d) => `${az} FlinkDeployment ${d}`),
    ...diff(before[az]!.haConfigMaps, now[az]?.haConfigMaps ?? []).map((d) => `${az} HA ConfigMaps ${d}`),
    ...(jars ? diff(jars[az]!.jarCache, now[az]?.jarCache ?? []).map((d) => `${az} jar cache ${d}`) : []),
  ]);
}
