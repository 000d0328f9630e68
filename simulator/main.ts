/**
 * Simulator process entry:
 *   tsx simulator/main.ts --port 0 --time-scale 10 --seed 1
 *   tsx simulator/main.ts ... --kubeconfig admin.kubeconfig --kube-contexts az-a=az-a,az-b=az-b
 * With --kubeconfig it also runs the operator stand-in (kube-operator.ts) against those
 * clusters: their FlinkDeployments are mirrored into this simulator and get their status
 * written back; the simulator's object store serves the k8s platform's ObjectStorePort.
 * `--platform-model null` makes every job RUNNING the moment it is applied (no delay, no shared
 * resource; latency-model.ts NULL_MODEL): the engine measured alone.
 * Prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout once listening; logs
 * (pino) go to stderr at `--log-level` (default warn). SIGTERM/SIGINT close it.
 * With AZ_EVAC_S3_ACCESS_KEY / _SECRET_KEY and AZ_EVAC_S3_ENDPOINTS set, every object the
 * simulated jobs write goes through to those S3 servers (s3-mirror.ts).
 */
import { Command, InvalidArgumentError } from 'commander';
import { numberAtLeast } from '../cli/options.js';
import { pino } from 'pino';
import { loadSettings } from '../config/settings.js';
import { loadFlinkDeploymentValidator } from '../domain/crd-validator.js';
import { connectionSettings, parseEndpoints, S3Clients } from '../platform/s3/clients.js';
import { S3Mirror } from './s3-mirror.js';
import { azApis } from '../platform/kube/az-apis.js';
import { loadKubeConfigs, parseKubeContexts } from '../platform/kube/kube-configs.js';
import { KubeOperatorStandIn } from './kube-operator.js';
import { KubeSnapshotStandIn } from './kube-snapshots.js';
import { startFlinkRestStandIn } from './flink-rest-server.js';
import { buildServer } from './server.js';
import { Simulator } from './simulator.js';
import { PLATFORM_MODELS, platformModelNamed } from './latency-model.js';
import { S3_CHECKPOINT_FLOOR_SECONDS } from './checkpointing.js';

/** listen(2) backlog; Linux caps it at net.core.somaxconn (4096 by default since 5.4). */
const LISTEN_BACKLOG = 4096;


async function main(): Promise<void> {
  const opts = new Command('az-evac-simulator')
    .description('Simulated two-AZ Flink platform (operator, clusters, object stores) over HTTP')
    .option('--port <n>', 'TCP port (0 = any free port)', numberAtLeast('--port', 0), 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--time-scale <x>', 'model seconds per wall second', numberAtLeast('--time-scale', 0.001), 1)
    .option('--seed <n>', 'seed of every random draw', numberAtLeast('--seed', 0), 1)
    .option('--log-level <level>', 'pino level for stderr logs', 'warn')
    .option('--platform-model <name>', `timing model: ${Object.keys(PLATFORM_MODELS).join(' or ')} (null: every job RUNNING the moment it is applied)`, (v) => {
      try {
        return platformModelNamed(v).name;
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    }, 'default')
    .option('--min-checkpoint-interval <s>', `floor on every job's checkpoint interval, model seconds (default: ${S3_CHECKPOINT_FLOOR_SECONDS} when writing through to S3, else none)`, numberAtLeast('--min-checkpoint-interval', 0))
    .option('--kubeconfig <file>', 'run the operator stand-in on the clusters of this (admin) kubeconfig')
    .option('--kube-contexts <map>', 'AZ to context, `az-a=ctxA,az-b=ctxB` (default: contexts named after the AZs az-a, az-b)', '')
    .parse()
    .opts<{ port: number; host: string; timeScale: number; seed: number; logLevel: string; platformModel: string; minCheckpointInterval?: number; kubeconfig?: string; kubeContexts: string }>();

  const logger = pino({ level: opts.logLevel, name: 'az-evac-simulator' }, pino.destination(2));
  const validator = await loadFlinkDeploymentValidator();
  const settings = loadSettings();
  const mirror = settings.s3AccessKey ? new S3Mirror(new S3Clients(connectionSettings(settings)), parseEndpoints(settings.s3Endpoints)) : undefined;
  let standIn: KubeOperatorStandIn | undefined;
  let snapshotStandIn: KubeSnapshotStandIn | undefined;
  const sim = new Simulator({
    mirror,
    minCheckpointIntervalSeconds: opts.minCheckpointInterval ?? (mirror ? S3_CHECKPOINT_FLOOR_SECONDS : 0),
    timeScale: opts.timeScale,
    seed: opts.seed,
    model: platformModelNamed(opts.platformModel),
    // With real API servers, the API server validated the manifest already (CRD schema).
    validateManifest: opts.kubeconfig
      ? undefined
      : (m) => {
          const r = validator(m);
          return r.ok ? [] : r.errors;
        },
    onStatusChange: (r) => standIn?.statusChanged(r),
  });
  const rest = opts.kubeconfig ? await startFlinkRestStandIn(sim, logger) : undefined;
  if (opts.kubeconfig) {
    const apis = azApis(loadKubeConfigs(opts.kubeconfig, parseKubeContexts(opts.kubeContexts, ['az-a', 'az-b'])));
    standIn = new KubeOperatorStandIn(sim, apis, logger, rest);
    standIn.start();
    snapshotStandIn = new KubeSnapshotStandIn(sim, apis, logger);
    snapshotStandIn.start();
  }
  const app = buildServer(sim, logger);
  sim.scheduler.start();
  // A burst of connections (a worker's pools opening at once) queues in the kernel instead of being refused.
  await app.listen({ port: opts.port, host: opts.host, backlog: LISTEN_BACKLOG });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  process.stdout.write(`${JSON.stringify({ url: `http://${opts.host}:${port}` })}\n`);
  const close = (): void => {
    sim.scheduler.stop();
    standIn?.stop();
    snapshotStandIn?.stop();
    void rest?.close();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

main().catch((err: unknown) => {
  process.stderr.write(`az-evac simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
