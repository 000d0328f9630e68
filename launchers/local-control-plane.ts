/**
 * Local multi-AZ Kubernetes control plane for tests, the demo and drills: one independent
 * cluster per AZ on loopback (its own etcd and kube-apiserver, built and cached by
 * `scripts/kube.sh install`), with static-token auth, RBAC authorization, the real
 * FlinkDeployment/FlinkSessionJob CRDs Established, Nodes carrying allocatable cpu/memory and
 * the zone label, and the least-privilege worker identity from deploy/rbac/az-evac-worker.yaml.
 *
 * Processes are started detached with their pid in `<stateDir>/control-plane.json`, so any
 * process (a vitest worker, `scripts/kube.sh stop`) can stop or restart an AZ's apiserver by
 * opening the same state dir; `stop()` ends everything recorded there.
 */
export { startLocalControlPlane, openLocalControlPlane } from './local-control-plane-runtime.js';

/** Nodes registered in each AZ (Node objects only: no kubelet runs). */
export interface LocalNodeSpec {
  /** Nodes per AZ. */
  count: number;
  /** status.allocatable.cpu of each node, cores. */
  cpuCores: number;
  /** status.allocatable.memory of each node, MiB. */
  memoryMiB: number;
}

/** Options of startLocalControlPlane. */
export interface LocalControlPlaneOptions {
  /** AZ names, one cluster each; also the kubeconfig context names. Default ['az-a', 'az-b']. */
  azs?: string[];
  /** Directory for etcd data, certs, tokens, logs, kubeconfigs and control-plane.json. Created if missing. */
  stateDir: string;
  /** Nodes per AZ. Default 8 nodes × 32 cores × 131072 MiB. */
  nodes?: LocalNodeSpec;
  /** Namespaces to create in every cluster (besides default/kube-system). Default ['flink']. */
  namespaces?: string[];
  /**
   * Kill every process of this control plane when the calling process exits (SIGINT, SIGTERM,
   * normal exit). Default true; `scripts/kube.sh start` passes false so the clusters outlive it.
   */
  killOnExit?: boolean;
}

/** One AZ's cluster. */
export interface LocalCluster {
  az: string;
  /** https://127.0.0.1:<port> of the kube-apiserver. */
  server: string;
  /** PEM file with the apiserver's self-signed serving certificate chain (kubeconfig certificate-authority). */
  caFile: string;
  /** Bearer token of `admin` (group system:masters). */
  adminToken: string;
  /**
   * Bearer token of the worker identity: user `system:serviceaccount:az-evac:az-evac-worker`
   * (groups system:serviceaccounts, system:serviceaccounts:az-evac), bound by the RBAC manifest.
   */
  workerToken: string;
  /** apiserver log file (etcd logs beside it). */
  logFile: string;
}

/** A running (or partly stopped) local control plane. */
export interface LocalControlPlane {
  stateDir: string;
  clusters: LocalCluster[];
  /** Admin kubeconfig: one context per AZ, named after the AZ. */
  kubeconfigPath: string;
  /** Worker-identity kubeconfig: one context per AZ, named after the AZ. */
  workerKubeconfigPath: string;
  /** The cluster of `az`. @throws Error naming the AZ when it is not part of this control plane */
  cluster(az: string): LocalCluster;
  /** Whether `az`'s apiserver process is alive. */
  isUp(az: string): boolean;
  /**
   * Stop `az`'s kube-apiserver abruptly, as an AZ failure does (SIGKILL); its etcd keeps the data, so
   * `startAz` brings the same cluster back. Idempotent.
   */
  stopAz(az: string): Promise<void>;
  /** Start `az`'s kube-apiserver again on the same port and wait until /readyz is ok. Idempotent. */
  startAz(az: string): Promise<void>;
  /** Stop every apiserver and etcd of this control plane. State stays on disk. Idempotent. */
  stop(): Promise<void>;
}
