/**
 * Proves the test-run Temporal dev server (scripts/temporal.sh start) is up with the custom
 * search attributes the engine sets on its workflows.
 */
import { Client, Connection, ServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTemporalAddress } from '../setup/temporal.js';

const { IndexedValueType } = temporal.api.enums.v1;

const EXPECTED_KEYWORD_ATTRIBUTES = ['AzEvacSourceAz', 'AzEvacTargetAz', 'AzEvacMode', 'AzEvacTier', 'AzEvacKind', 'AzEvacJob', 'AzEvacRun'];

describe('Temporal dev server from the global setup', () => {
  let connection: Connection;

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('registers every az-evac search attribute as Keyword', async () => {
    const response = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    const custom = response.customAttributes ?? {};
    const found = Object.fromEntries(EXPECTED_KEYWORD_ATTRIBUTES.map((name) => [name, custom[name]]));
    expect(found).toEqual(
      Object.fromEntries(EXPECTED_KEYWORD_ATTRIBUTES.map((name) => [name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    );
  });

  it('accepts visibility queries over the attributes', async () => {
    const client = new Client({ connection, namespace: 'default' });
    const query = EXPECTED_KEYWORD_ATTRIBUTES.map((name) => `${name} = 'none'`).join(' AND ');
    const listed = [];
    for await (const execution of client.workflow.list({ query })) listed.push(execution);
    expect(listed).toEqual([]);
  });

  it('rejects a query over an unknown attribute (the check above is not vacuous)', async () => {
    const client = new Client({ connection, namespace: 'default' });
    const iterate = async (): Promise<void> => {
      for await (const execution of client.workflow.list({ query: "AzEvacNoSuchAttribute = 'x'" })) void execution;
    };
    const error: unknown = await iterate().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect(String((error as ServiceError).cause)).toMatch(/AzEvacNoSuchAttribute/);
  });
});
