/**
 * The simulator's HTTP API (fastify, JSON). The engine reaches it through SimulatorClient
 * (client.ts). Routes:
 *
 * ClusterPort   GET  /az/:az/capacity
 *               GET  /az/:az/deployments/:namespace/:name            → { status | null }
 *               POST /az/:az/apply                (body: manifest)    → ApplyResult
 *               POST /az/:az/deployments/:namespace/:name/restore    (body: RestoreRequest + annotations?) → DeploymentStatus
 *               POST /az/:az/deployments/:namespace/:name/suspend    (body: { annotations? }) → { status | null }
 *               POST /az/:az/deployments/:namespace/:name/stop-with-savepoint → { status | null }
 *               POST /az/:az/deployments/:namespace/:name/undo-stop  (body: { upgradeMode }) → DeploymentStatus
 *               POST /az/:az/events               (body: DeploymentEvent) → { ok }
 *               DELETE /az/:az/deployments/:namespace/:name          → { deleted }
 *               POST /az/:az/deployments/:namespace/:name/labels     (body: { labels, annotations? }) → DeploymentStatus
 *               DELETE /az/:az/ha-configmaps/:namespace/:name        → { deleted }
 *               POST /az/:az/namespaces/:namespace/check  (body: { refs }) → NamespaceCheck
 * Waits         POST /waits (body: { session, rounds, holdSeconds }) → { answers }: the wait-for-running
 *                    long-polls of one client batched onto one held request (server-waits.ts)
 * Savepoints   POST /az/:az/deployments/:namespace/:name/savepoints (body: { id, format }) → SavepointTrigger
 *               POST …/savepoints/progress (body: { trigger }) → SavepointProgress
 *               POST …/savepoints/release (body: { trigger }) → { released }
 * ObjectStore   POST /az/:az/snapshots  POST /az/:az/artifacts/has  POST /az/:az/artifacts/preload
 * Shipping      POST /az/:toAz/shipments (body: { fromAz, path }) → ShippedSavepoint (held until copied)
 *               POST /az/:az/shipments/delete (body: { path }) → { deleted }
 * FleetSource   GET  /fleet                                         → { platform, jobs, unreachableAzs }
 * Control       POST /control/fleet, /control/az/:az/down|up, /control/replication/:from/:to/down|up[?declare=true|false] (a
 *               replication outage of one AZ pair; declare: list it in the profile's notReplicated, or no longer), /control/faults, /control/reset,
 *               /control/ha-configmaps, /control/kube-objects; GET /control/ha-configmaps?az, /control/stats, /control/deployments, /control/clock,
 *               /control/objects, /control/events?az, /control/connections (open TCP connections, wait rounds pending)
 *
 * API routes (not /control) suffer the injected faults (faults.ts): `apiDownAzs` first
 * (every /az/<az>/… call of those AZs answers 503), then the drawn ones. Errors answer
 * `{ code, message, retryable, retryAfterSeconds? }` (http-errors.ts).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { PlatformError } from '../platform/errors.js';
import type { ArtifactPlace, DeploymentEvent, SavepointTrigger, UpgradeMode } from '../platform/ports.js';
import type { SavepointFormat } from '../domain/protection.js';
import type { FlinkDeploymentManifest, JarArtifact } from '../domain/types.js';
import type { ObjectRef } from '../domain/target-readiness.js';
import type { RestoreRequest } from '../domain/flink-spec.js';
import type { SnapshotQuery } from '../domain/snapshot-choice.js';
import type { SnapshotOwner } from '../domain/snapshot-owner.js';
import type { FaultConfig } from './faults.js';
import type { GeneratedFleet } from './fleet-generator.js';
import { loadFleet, type LoadFleetOptions } from './fleet-loader.js';
import { errorBody, statusOf } from '../platform/simulator-client/http-errors.js';
import { SCHEMAS } from './server-schemas.js';
import { WaitSessions, type WaitRound } from './server-waits.js';
import type { Simulator } from './simulator.js';
import { simulatorStats } from './stats.js';

type AzP = { az: string };
type ValidationIssue = { instancePath: string; message?: string; params?: Record<string, unknown> };

/** `body/jar/digest must match pattern ...`, `body/apiFailurerate is not allowed (unknown field)`. */
function describeIssue(context: string, v: ValidationIssue): string {
  const unknown = v.params?.additionalProperty;
  if (typeof unknown === 'string') return `${context}${v.instancePath}/${unknown} is not allowed (unknown field); remove or correct it`;
  const missing = v.params?.missingProperty;
  if (typeof missing === 'string') return `${context}${v.instancePath}/${missing} is required`;
  return `${context}${v.instancePath} ${v.message ?? 'is invalid'}`;
}
type ResP = { az: string; namespace: string; name: string };

/** Build (not start) the HTTP server over `sim`. */
export function buildServer(sim: Simulator, logger?: FastifyBaseLogger): FastifyInstance {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: 512 * 1024 * 1024,
    keepAliveTimeout: 65_000,
    // Reject unknown fields (a typo must not be silently dropped); coerce querystrings.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  });

  app.setErrorHandler((err: Error & { validation?: ValidationIssue[]; validationContext?: string; statusCode?: number }, _req, reply) => {
    if (err instanceof PlatformError) {
      if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.status(statusOf(err.code)).send(errorBody(err));
    }
    if (err.validation) {
      const message = err.validation.map((v) => describeIssue(err.validationContext ?? 'request', v)).join('; ');
      return reply.status(400).send({ code: 'invalid', message, retryable: false });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send({ code: 'invalid', message: err.message, retryable: false });
    }
    app.log.error(err);
    return reply.status(500).send({ code: 'failed', message: `simulator error: ${err.message}`, retryable: false });
  });

  app.addHook('onRequest', async (req, reply: FastifyReply) => {
    if (req.url.startsWith('/control/')) return;
    const az = /^\/az\/([^/?]+)/.exec(req.url)?.[1];
    if (az !== undefined && sim.faults.apiDown(decodeURIComponent(az))) {
      return reply.status(503).send({ code: 'unavailable', message: `injected fault: API server of ${decodeURIComponent(az)} unavailable`, retryable: true });
    }
    const fault = sim.faults.draw();
    if (!fault) return;
    if (fault.kind === 'hang') {
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      return reply.status(504).send({ code: 'timeout', message: `injected fault: ${req.method} ${req.url} timed out`, retryable: true });
    }
    if (fault.kind === 'throttled') {
      return reply
        .status(429)
        .header('retry-after', String(fault.retryAfterSeconds))
        .send({ code: 'throttled', message: 'injected fault: too many requests', retryable: true, retryAfterSeconds: fault.retryAfterSeconds });
    }
    return reply.status(503).send({ code: 'unavailable', message: `injected fault: ${req.method} ${req.url} unavailable`, retryable: true });
  });

  const res = '/az/:az/deployments/:namespace/:name';
  app.get<{ Params: AzP }>('/az/:az/capacity', { schema: SCHEMAS.az }, async (req) => sim.capacity(req.params.az));
  app.get<{ Params: ResP }>(res, { schema: SCHEMAS.resource }, async (req) => ({ status: sim.getDeployment(req.params.az, req.params.namespace, req.params.name) }));
  app.post<{ Params: AzP; Body: FlinkDeploymentManifest }>('/az/:az/apply', { schema: SCHEMAS.apply }, async (req) => sim.apply(req.params.az, req.body));
  app.post<{ Params: ResP; Body: RestoreRequest & { annotations?: Record<string, string> } }>(`${res}/restore`, { schema: SCHEMAS.restore }, async (req) => {
    const { annotations, ...restore } = req.body;
    return sim.restore(req.params.az, req.params.namespace, req.params.name, restore, annotations);
  });
  app.post<{ Params: ResP; Body: { annotations?: Record<string, string> } }>(`${res}/suspend`, { schema: SCHEMAS.suspend }, async (req) => ({
    status: sim.suspend(req.params.az, req.params.namespace, req.params.name, req.body.annotations),
  }));
  app.post<{ Params: ResP }>(`${res}/stop-with-savepoint`, { schema: SCHEMAS.resource }, async (req) => ({ status: sim.stopWithSavepoint(req.params.az, req.params.namespace, req.params.name) }));
  app.post<{ Params: ResP; Body: { upgradeMode: UpgradeMode | null } }>(`${res}/undo-stop`, { schema: SCHEMAS.undoStop }, async (req) =>
    sim.undoStop(req.params.az, req.params.namespace, req.params.name, req.body.upgradeMode),
  );
  app.post<{ Params: AzP; Body: DeploymentEvent }>('/az/:az/events', { schema: SCHEMAS.event }, async (req) => {
    sim.recordEvent(req.params.az, req.body);
    return { ok: true };
  });
  app.delete<{ Params: ResP }>(res, { schema: SCHEMAS.resource }, async (req) => ({ deleted: sim.deleteDeployment(req.params.az, req.params.namespace, req.params.name) }));
  app.post<{ Params: ResP; Body: { labels: Record<string, string>; annotations?: Record<string, string> } }>(`${res}/labels`, { schema: SCHEMAS.label }, async (req) =>
    sim.label(req.params.az, req.params.namespace, req.params.name, req.body.labels, req.body.annotations),
  );
  app.delete<{ Params: ResP }>('/az/:az/ha-configmaps/:namespace/:name', { schema: SCHEMAS.resource }, async (req) => ({
    deleted: sim.deleteHaConfigMaps(req.params.az, req.params.namespace, req.params.name),
  }));
  app.post<{ Params: { az: string; namespace: string }; Body: { refs: ObjectRef[] } }>('/az/:az/namespaces/:namespace/check', { schema: SCHEMAS.checkObjects }, async (req) =>
    sim.checkObjects(req.params.az, req.params.namespace, req.body.refs),
  );
  const waits = new WaitSessions(sim);
  app.post<{ Body: { session: string; rounds: WaitRound[]; holdSeconds: number } }>('/waits', { schema: SCHEMAS.waits }, async (req) => ({
    answers: await waits.poll(req.body.session, req.body.rounds, req.body.holdSeconds),
  }));

  app.post<{ Params: ResP; Body: { id: string; format: SavepointFormat } }>(`${res}/savepoints`, { schema: SCHEMAS.triggerSavepoint }, async (req) =>
    sim.protection.triggerSavepoint(req.params.az, req.params.namespace, req.params.name, req.body),
  );
  app.post<{ Params: ResP; Body: { trigger: SavepointTrigger } }>(`${res}/savepoints/progress`, { schema: SCHEMAS.savepointTrigger }, async (req) => sim.protection.savepointProgress(req.body.trigger));
  app.post<{ Params: ResP; Body: { trigger: SavepointTrigger } }>(`${res}/savepoints/release`, { schema: SCHEMAS.savepointTrigger }, async (req) => {
    sim.protection.releaseSavepointTrigger(req.body.trigger);
    return { released: true };
  });
  app.post<{ Params: AzP; Body: { fromAz: string; path: string } }>('/az/:az/shipments', { schema: SCHEMAS.shipSavepoint }, async (req) =>
    sim.protection.shipSavepoint(req.body.fromAz, req.params.az, req.body.path),
  );
  app.post<{ Params: AzP; Body: { path: string } }>('/az/:az/shipments/delete', { schema: SCHEMAS.deleteShipped }, async (req) => ({
    deleted: sim.protection.deleteShipped(req.params.az, req.body.path),
  }));

  app.post<{ Params: AzP; Body: { owner: SnapshotOwner } }>('/az/:az/snapshots', { schema: SCHEMAS.snapshots }, async (req) => ({
    snapshots: sim.snapshotCandidates(req.params.az, req.body.owner),
  }));
  app.post<{ Params: AzP; Body: { owner: SnapshotOwner; query: SnapshotQuery } }>('/az/:az/snapshots/find', { schema: SCHEMAS.findSnapshot }, async (req) => ({
    choice: await sim.findSnapshot(req.params.az, req.body.owner, req.body.query),
  }));
  app.post<{ Params: AzP; Body: { jar: JarArtifact; place: ArtifactPlace } }>('/az/:az/artifacts/has', { schema: SCHEMAS.hasArtifact }, async (req) => ({
    present: sim.hasArtifact(req.params.az, req.body.jar, req.body.place),
  }));
  app.post<{ Params: AzP; Body: { jar: JarArtifact } }>('/az/:az/artifacts/preload', { schema: SCHEMAS.preload }, async (req) => sim.preloadArtifact(req.params.az, req.body.jar));
  app.get('/fleet', async () => sim.readFleet());

  app.post<{ Body: { fleet: GeneratedFleet; options?: LoadFleetOptions } }>('/control/fleet', { schema: SCHEMAS.loadFleet }, async (req) => {
    const loaded = loadFleet(sim, req.body.fleet, req.body.options);
    await sim.stores.mirror?.flush(); // the fleet's objects are in S3 before the caller reads them there
    return loaded;
  });
  app.post<{ Params: AzP }>('/control/az/:az/down', { schema: SCHEMAS.az }, async (req) => {
    sim.setAzDown(req.params.az, true);
    // S3 catches up with the in-memory replicas (the operator's view) before anyone reads it.
    await sim.stores.mirror?.flush();
    return { az: req.params.az, down: true };
  });
  app.post<{ Params: AzP }>('/control/az/:az/up', { schema: SCHEMAS.az }, async (req) => {
    sim.setAzDown(req.params.az, false);
    return { az: req.params.az, down: false };
  });
  app.post<{ Params: { from: string; to: string; state: string }; Querystring: { declare?: boolean } }>('/control/replication/:from/:to/:state', { schema: SCHEMAS.replicationOutage }, async (req) => {
    const down = req.params.state === 'down';
    sim.stores.setReplicationDown(req.params.from, req.params.to, down);
    if (req.query.declare !== undefined) sim.declareNotReplicated(req.params.from, req.params.to, req.query.declare);
    return { from: req.params.from, to: req.params.to, down, notReplicated: sim.platform.notReplicated ?? [] };
  });
  app.post<{ Body: Partial<FaultConfig> }>('/control/faults', { schema: SCHEMAS.faults }, async (req) => sim.setFaults(req.body));
  app.post<{ Body: { az: string; namespace: string; name: string; pointer?: string } }>('/control/ha-configmaps', { schema: SCHEMAS.haConfigMaps }, async (req) => {
    sim.putHaConfigMaps(req.body.az, req.body.namespace, req.body.name, req.body.pointer);
    return { ok: true };
  });
  app.post<{ Body: { az: string; namespace: string; present: boolean; objects?: ObjectRef[] } }>('/control/kube-objects', { schema: SCHEMAS.kubeObjects }, async (req) => {
    sim.setKubeObjects(req.body.az, req.body.namespace, req.body.present, req.body.objects);
    return { ok: true };
  });
  app.get<{ Querystring: { az?: string; key?: string } }>('/control/stats', { schema: SCHEMAS.stats }, async (req) => simulatorStats(sim, req.query));
  app.get<{ Querystring: { az: string } }>('/control/ha-configmaps', { schema: SCHEMAS.haConfigMapKeys }, async (req) => ({ keys: [...sim.cluster(req.query.az).haConfigMaps.keys()].sort() }));
  app.get<{ Querystring: { az?: string } }>('/control/deployments', { schema: SCHEMAS.deployments }, async (req) => ({ deployments: sim.listDeployments(req.query.az) }));
  app.get<{ Querystring: { az: string } }>('/control/events', { schema: SCHEMAS.events }, async (req) => ({ events: sim.listEvents(req.query.az) }));
  app.get('/control/connections', async () => ({
    open: await new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    pendingWaitRounds: waits.pendingRounds(),
  }));
  app.get('/control/clock', async () => ({ nowEpochSeconds: sim.clock.epoch(sim.clock.now()), timeScale: sim.clock.timeScale }));
  app.get<{ Querystring: { az: string; bucket: string; prefix?: string; delimiter?: string; maxKeys?: number; continuationToken?: string; startAfter?: string } }>(
    '/control/objects',
    { schema: SCHEMAS.objects },
    async (req) => {
      const { az, bucket, ...list } = req.query;
      sim.cluster(az);
      return sim.stores.store(az).list(bucket, list);
    },
  );
  app.post('/control/reset', async () => {
    sim.configure({ layout: 'symmetric', azs: [] }, {});
    return { ok: true };
  });
  return app;
}
