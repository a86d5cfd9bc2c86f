import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureVoicesTable,
  type LocalDynamo,
  localDynamoClient,
  startLocalDynamo,
} from '../../local/servers';
import { resourceById, useDefaultStack } from './support';

interface KeyElement {
  readonly AttributeName?: string;
  readonly KeyType?: string;
}
interface IndexShape {
  readonly IndexName?: string;
  readonly KeySchema?: readonly KeyElement[];
  readonly Projection?: { readonly ProjectionType?: string };
}
interface TableShape {
  readonly KeySchema?: readonly KeyElement[];
  readonly AttributeDefinitions?: readonly { AttributeName?: string; AttributeType?: string }[];
  readonly GlobalSecondaryIndexes?: readonly IndexShape[];
}

/** What both sides must agree on: keys, attribute types and each index's keys and projection. */
function shapeOf(table: TableShape) {
  const keys = (schema: readonly KeyElement[] | undefined) =>
    (schema ?? []).map(({ AttributeName, KeyType }) => ({ AttributeName, KeyType }));
  return {
    keySchema: keys(table.KeySchema),
    attributes: (table.AttributeDefinitions ?? [])
      .map(({ AttributeName, AttributeType }) => ({ AttributeName, AttributeType }))
      .sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName))),
    indexes: (table.GlobalSecondaryIndexes ?? [])
      .map((index) => ({
        indexName: index.IndexName,
        keySchema: keys(index.KeySchema),
        projection: index.Projection?.ProjectionType,
      }))
      .sort((a, b) => String(a.indexName).localeCompare(String(b.indexName))),
  };
}

describe('the voices table: the stack and local mode build it from one definition', () => {
  const synthesized = useDefaultStack();
  let dynamo: LocalDynamo;

  beforeAll(async () => {
    dynamo = await startLocalDynamo({ port: 0 });
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  it("local mode's table has the synthesized table's keys, attributes and indexes", async () => {
    const stackTable = resourceById(synthesized.template, synthesized.ids.table).Properties as TableShape;

    const client = localDynamoClient(dynamo.endpoint);
    await ensureVoicesTable(client, 'voices-definition-test');
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'voices-definition-test' }));
    client.destroy();

    const local = shapeOf(Table ?? {});
    expect(local.indexes.length).toBeGreaterThanOrEqual(2);
    expect(local).toEqual(shapeOf(stackTable));
  });
});
