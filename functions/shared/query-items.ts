import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/** Every item a query matches (typed as the caller knows them), page after page (each page's LastEvaluatedKey starts the next). */
export async function queryItems<Item = Record<string, unknown>>(
  documents: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const response = await documents.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...((response.Items ?? []) as Item[]));
    startKey = response.LastEvaluatedKey;
  } while (startKey);
  return items;
}
