/**
 * One KubeConfig object per AZ, each pinned to that AZ's context of one kubeconfig file
 * (docs/design.md#kubernetes: a shared KubeConfig would mix the clusters' credentials). Settings:
 * AZ_EVAC_KUBECONFIG (file) and AZ_EVAC_KUBE_CONTEXTS (`az-a=ctxA,az-b=ctxB`).
 */
import { KubeConfig } from '@kubernetes/client-node';

/**
 * Parse `az-a=ctxA,az-b=ctxB` into a map AZ → context name.
 * @param azs used when `text` is empty: one context per AZ, named after the AZ
 * @throws Error naming the entry and the expected form when an entry is malformed or an AZ repeats
 */
export function parseKubeContexts(text: string, azs: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  if (text.trim() === '') {
    for (const az of azs) out.set(az, az);
    return out;
  }
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(entry);
    if (!m) throw new Error(`AZ_EVAC_KUBE_CONTEXTS entry ${JSON.stringify(entry)} is not <az>=<context>. Fix: e.g. AZ_EVAC_KUBE_CONTEXTS=az-a=prod-use1a,az-b=prod-use1b`);
    if (out.has(m[1]!)) throw new Error(`AZ_EVAC_KUBE_CONTEXTS names AZ ${m[1]} twice. Fix: one context per AZ`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * A KubeConfig per AZ from one kubeconfig file.
 * @param file kubeconfig path; '' = $KUBECONFIG or ~/.kube/config (client-node's default loading)
 * @param contexts AZ → context name (parseKubeContexts)
 * @throws Error naming the AZ, the context and the contexts the file has, when a context is missing
 */
export function loadKubeConfigs(file: string, contexts: Map<string, string>): Map<string, KubeConfig> {
  if (contexts.size === 0) throw new Error('no AZ contexts configured. Fix: set AZ_EVAC_KUBE_CONTEXTS=az-a=<context>,az-b=<context>');
  const out = new Map<string, KubeConfig>();
  for (const [az, context] of contexts) {
    const kc = new KubeConfig();
    if (file === '') kc.loadFromDefault();
    else kc.loadFromFile(file);
    if (!kc.getContextObject(context)) {
      throw new Error(`kubeconfig ${file || '(default)'} has no context ${JSON.stringify(context)} for AZ ${az} (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}). Fix: set AZ_EVAC_KUBE_CONTEXTS=${az}=<one of those>`);
    }
    kc.setCurrentContext(context);
    out.set(az, kc);
  }
  return out;
}
