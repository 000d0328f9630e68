/**
 * Command-line entry of the local control plane, run by `scripts/kube.sh start|stop|env|stop-az|start-az`:
 *   tsx launchers/local-control-plane-main.ts start <stateDir> [--nodes N --node-cpu C --node-memory-mib M]
 *   tsx launchers/local-control-plane-main.ts stop|env <stateDir>
 *   tsx launchers/local-control-plane-main.ts stop-az|start-az <stateDir> <az>
 * `start` leaves the clusters running after it exits (stop them with `stop`).
 */
import { Command, InvalidArgumentError } from 'commander';
import { openLocalControlPlane, startLocalControlPlane } from './local-control-plane.js';

function count(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be an integer ≥ 1, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Shell lines pointing kubectl and az-evac (AZ_EVAC_KUBECONFIG / AZ_EVAC_KUBE_CONTEXTS) at the clusters. */
function envLines(stateDir: string): string {
  const cp = openLocalControlPlane(stateDir);
  return [
    `export KUBECONFIG=${cp.kubeconfigPath}`,
    `export AZ_EVAC_KUBECONFIG=${cp.workerKubeconfigPath}`,
    `export AZ_EVAC_KUBE_CONTEXTS=${cp.clusters.map((c) => `${c.az}=${c.az}`).join(',')}`,
  ].join('\n');
}

const program = new Command('kube-control-plane').description('Local two-AZ Kubernetes control plane (etcd + kube-apiserver per AZ)');
program
  .command('start <stateDir>')
  .option('--azs <list>', 'comma-separated AZ names', 'az-a,az-b')
  .option('--nodes <n>', 'Nodes per AZ', count('--nodes'), 8)
  .option('--node-cpu <cores>', 'allocatable cores per Node', count('--node-cpu'), 32)
  .option('--node-memory-mib <mib>', 'allocatable memory per Node, MiB', count('--node-memory-mib'), 131072)
  .action(async (stateDir: string, o: { azs: string; nodes: number; nodeCpu: number; nodeMemoryMib: number }) => {
    const started = Date.now();
    await startLocalControlPlane({
      stateDir,
      azs: o.azs.split(',').map((a) => a.trim()).filter((a) => a !== ''),
      nodes: { count: o.nodes, cpuCores: o.nodeCpu, memoryMiB: o.nodeMemoryMib },
      killOnExit: false,
    });
    console.error(`clusters ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(envLines(stateDir));
  });
program.command('stop <stateDir>').action(async (stateDir: string) => openLocalControlPlane(stateDir).stop());
program.command('env <stateDir>').action((stateDir: string) => console.log(envLines(stateDir)));
program.command('stop-az <stateDir> <az>').action(async (stateDir: string, az: string) => openLocalControlPlane(stateDir).stopAz(az));
program.command('start-az <stateDir> <az>').action(async (stateDir: string, az: string) => openLocalControlPlane(stateDir).startAz(az));

program.parseAsync().catch((err: unknown) => {
  console.error(`kube-control-plane: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
