/**
 * JSON schemas of the simulator's HTTP routes (fastify validates bodies, params and
 * querystrings with them; a failure answers 400 naming the field, e.g.
 * `body/jar must have required property 'digest'`).
 */
import { FLINK_DEPLOYMENT_SHAPE } from '../domain/catalog-validation.js';
import { OBJECT_KINDS } from '../domain/target-readiness.js';

const azParams = { type: 'object', required: ['az'], properties: { az: { type: 'string', minLength: 1 } } } as const;

const resourceParams = {
  type: 'object',
  required: ['az', 'namespace', 'name'],
  properties: { az: { type: 'string', minLength: 1 }, namespace: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 } },
} as const;

const jar = {
  type: 'object',
  required: ['key', 'digest', 'sizeBytes'],
  properties: {
    key: { type: 'string', minLength: 1 },
    digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
    sizeBytes: { type: 'number', minimum: 0 },
  },
} as const;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** domain/snapshot-owner.ts SnapshotOwner. */
const snapshotOwner = {
  type: 'object',
  required: ['checkpointPrefix', 'savepointPrefix', 'jobIds'],
  additionalProperties: false,
  properties: {
    checkpointPrefix: { type: 'string', minLength: 1 },
    savepointPrefix: { type: 'string', minLength: 1 },
    jobIds: { type: 'array', items: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
    entropyKey: { type: 'string' },
  },
} as const;

/** A FlinkDeployment, structurally (the CRD schema is checked by the simulator itself). */
const manifest = FLINK_DEPLOYMENT_SHAPE;
const objectRef = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name'],
  properties: { kind: { enum: [...OBJECT_KINDS] }, name: { type: 'string', minLength: 1 } },
} as const;

/** Route schemas by route name. */
export const SCHEMAS = {
  az: { params: azParams },
  replicationOutage: {
    params: {
      type: 'object', required: ['from', 'to', 'state'],
      properties: { from: { type: 'string', minLength: 1 }, to: { type: 'string', minLength: 1 }, state: { type: 'string', enum: ['down', 'up'] } },
    },
    querystring: { type: 'object', additionalProperties: false, properties: { declare: { type: 'boolean' } } },
  },
  resource: { params: resourceParams },
  triggerSavepoint: {
    params: resourceParams,
    body: {
      type: 'object', required: ['id', 'format'], additionalProperties: false,
      properties: { id: { type: 'string', minLength: 1 }, format: { type: 'string', enum: ['native', 'canonical'] } },
    },
  },
  savepointTrigger: {
    params: resourceParams,
    body: {
      type: 'object', required: ['trigger'], additionalProperties: false,
      properties: {
        trigger: {
          type: 'object', required: ['az', 'namespace', 'name', 'via', 'id', 'format'], additionalProperties: false,
          properties: {
            az: { type: 'string', minLength: 1 }, namespace: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 },
            via: { type: 'string', enum: ['flinkstatesnapshot', 'nonce'] }, id: { type: 'string', minLength: 1 },
            format: { type: 'string', enum: ['native', 'canonical'] }, resource: { type: 'string', minLength: 1 },
          },
        },
      },
    },
  },
  shipSavepoint: {
    params: azParams,
    body: { type: 'object', required: ['fromAz', 'path'], additionalProperties: false, properties: { fromAz: { type: 'string', minLength: 1 }, path: { type: 'string', minLength: 1 } } },
  },
  deleteShipped: {
    params: azParams,
    body: { type: 'object', required: ['path'], additionalProperties: false, properties: { path: { type: 'string', minLength: 1 } } },
  },
  apply: { params: azParams, body: manifest },
  restore: {
    params: resourceParams,
    body: {
      type: 'object',
      required: ['savepointRedeployNonce'],
      additionalProperties: false,
      properties: { initialSavepointPath: { type: 'string', minLength: 1 }, savepointRedeployNonce: { type: 'integer' }, haZooKeeperRoot: { type: 'string', minLength: 1 }, annotations: stringMap },
    },
  },
  undoStop: {
    params: resourceParams,
    body: { type: 'object', required: ['upgradeMode'], additionalProperties: false, properties: { upgradeMode: { enum: ['savepoint', 'last-state', 'stateless', null] } } },
  },
  label: { params: resourceParams, body: { type: 'object', required: ['labels'], properties: { labels: stringMap, annotations: stringMap } } },
  suspend: { params: resourceParams, body: { type: 'object', additionalProperties: false, properties: { annotations: stringMap } } },
  event: {
    params: azParams,
    body: {
      type: 'object',
      required: ['namespace', 'name', 'type', 'reason', 'message', 'id'],
      additionalProperties: false,
      properties: {
        namespace: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 }, uid: { type: 'string' },
        type: { enum: ['Normal', 'Warning'] }, reason: { type: 'string', minLength: 1 }, message: { type: 'string' }, id: { type: 'string', minLength: 1 },
      },
    },
  },
  events: { querystring: { type: 'object', required: ['az'], properties: { az: { type: 'string' } } } },
  waits: {
    body: {
      type: 'object',
      required: ['session', 'rounds', 'holdSeconds'],
      additionalProperties: false,
      properties: {
        session: { type: 'string', minLength: 1, maxLength: 64 },
        holdSeconds: { type: 'number', minimum: 0, maximum: 60 },
        rounds: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'az', 'namespace', 'name', 'minGeneration', 'restoring', 'holdSeconds'],
            additionalProperties: false,
            properties: {
              id: { type: 'string', minLength: 1 },
              az: { type: 'string', minLength: 1 },
              namespace: { type: 'string', minLength: 1 },
              name: { type: 'string', minLength: 1 },
              minGeneration: { type: 'integer', minimum: 0 },
              restoring: { type: 'boolean' },
              holdSeconds: { type: 'number', minimum: 0, maximum: 60 },
            },
          },
        },
      },
    },
  },
  snapshots: {
    params: azParams,
    body: { type: 'object', required: ['owner'], properties: { owner: snapshotOwner } },
  },
  findSnapshot: {
    params: azParams,
    body: {
      type: 'object',
      required: ['owner', 'query'],
      properties: {
        owner: snapshotOwner,
        query: {
          type: 'object',
          required: ['nowEpochSeconds'],
          additionalProperties: false,
          properties: {
            layout: { enum: ['symmetric', 'per-az-buckets'] },
            nowEpochSeconds: { type: 'number', minimum: 0 },
            rpoSeconds: { type: 'number', minimum: 0 },
            kind: { enum: ['checkpoint', 'savepoint'] },
            dirKeys: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
  hasArtifact: {
    params: azParams,
    body: { type: 'object', required: ['jar', 'place'], properties: { jar, place: { enum: ['repository', 'cache'] } } },
  },
  preload: { params: azParams, body: { type: 'object', required: ['jar'], properties: { jar } } },
  loadFleet: {
    body: {
      type: 'object',
      required: ['fleet'],
      properties: {
        fleet: {
          type: 'object',
          required: ['platform', 'jobs', 'standbys', 'capacities'],
          properties: {
            platform: { type: 'object', required: ['layout', 'azs'], properties: { layout: { enum: ['symmetric', 'per-az-buckets'] }, azs: { type: 'array', minItems: 1 } } },
            jobs: { type: 'array' },
            standbys: { type: 'array' },
            capacities: { type: 'object' },
          },
        },
        options: {
          type: 'object',
          additionalProperties: false,
          properties: {
            incompleteReplicaFraction: { type: 'number', minimum: 0, maximum: 1 },
            staleHaFraction: { type: 'number', minimum: 0, maximum: 1 },
          },
        },
      },
    },
  },
  faults: {
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        apiFailureRate: { type: 'number', minimum: 0, maximum: 1 },
        kinds: { type: 'array', items: { enum: ['unavailable', 'throttled', 'hang'] } },
        hangMs: { type: 'integer', minimum: 0, maximum: 600000 },
        retryAfterSeconds: { type: 'number', minimum: 0 },
        failApply: { type: 'array', items: { type: 'string' } },
        neverRunning: { type: 'array', items: { type: 'string' } },
        failRestore: { type: 'array', items: { type: 'string' } },
        ignoreSuspend: { type: 'array', items: { type: 'string' } },
        failSavepoint: { type: 'array', items: { type: 'string' } },
        apiDownAzs: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  haConfigMaps: {
    body: {
      type: 'object',
      required: ['az', 'namespace', 'name'],
      properties: { az: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' }, pointer: { type: 'string' } },
    },
  },
  checkObjects: {
    params: { type: 'object', required: ['az', 'namespace'], properties: { az: { type: 'string', minLength: 1 }, namespace: { type: 'string', minLength: 1 } } },
    body: { type: 'object', additionalProperties: false, required: ['refs'], properties: { refs: { type: 'array', items: objectRef } } },
  },
  kubeObjects: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['az', 'namespace', 'present'],
      properties: { az: { type: 'string' }, namespace: { type: 'string' }, present: { type: 'boolean' }, objects: { type: 'array', items: objectRef } },
    },
  },
  haConfigMapKeys: { querystring: { type: 'object', required: ['az'], properties: { az: { type: 'string' } } } },
  deployments: { querystring: { type: 'object', properties: { az: { type: 'string' } } } },
  stats: { querystring: { type: 'object', properties: { az: { type: 'string' }, key: { type: 'string' } } } },
  objects: {
    querystring: {
      type: 'object',
      required: ['az', 'bucket'],
      properties: {
        az: { type: 'string' },
        bucket: { type: 'string' },
        prefix: { type: 'string' },
        delimiter: { type: 'string' },
        maxKeys: { type: 'integer' },
        continuationToken: { type: 'string' },
        startAfter: { type: 'string' },
      },
    },
  },
} as const;
