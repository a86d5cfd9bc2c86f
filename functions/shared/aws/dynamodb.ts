import type { AwsSettings } from './config';
import { type MarshallOptions, marshallItem, unmarshallItem } from './dynamodb-values';
import type { AwsCallOptions } from './http';
import { jsonRpc } from './json-rpc';

/** A DynamoDB item, key or attribute value map as plain JavaScript values. */
export type DocumentItem = Record<string, unknown>;

type ReturnValue = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';

interface Expressions {
  readonly ConditionExpression?: string | undefined;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>> | undefined;
  readonly ExpressionAttributeValues?: DocumentItem | undefined;
}

/** The inputs below take the same fields as @aws-sdk/lib-dynamodb's commands of the same name. */
export interface GetInput {
  readonly TableName: string;
  readonly Key: DocumentItem;
  readonly ConsistentRead?: boolean | undefined;
  readonly ProjectionExpression?: string | undefined;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>> | undefined;
}

export interface PutInput extends Expressions {
  readonly TableName: string;
  readonly Item: DocumentItem;
  readonly ReturnValues?: 'NONE' | 'ALL_OLD' | undefined;
}

export interface UpdateInput extends Expressions {
  readonly TableName: string;
  readonly Key: DocumentItem;
  readonly UpdateExpression: string;
  readonly ReturnValues?: ReturnValue | undefined;
}

export interface DeleteInput extends Expressions {
  readonly TableName: string;
  readonly Key: DocumentItem;
  readonly ReturnValues?: 'NONE' | 'ALL_OLD' | undefined;
}

export interface QueryInput {
  readonly TableName: string;
  readonly IndexName?: string | undefined;
  readonly KeyConditionExpression: string;
  readonly FilterExpression?: string | undefined;
  readonly ProjectionExpression?: string | undefined;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>> | undefined;
  readonly ExpressionAttributeValues?: DocumentItem | undefined;
  readonly Limit?: number | undefined;
  readonly ExclusiveStartKey?: DocumentItem | undefined;
  readonly ScanIndexForward?: boolean | undefined;
  readonly ConsistentRead?: boolean | undefined;
  readonly Select?:
    | 'ALL_ATTRIBUTES'
    | 'ALL_PROJECTED_ATTRIBUTES'
    | 'SPECIFIC_ATTRIBUTES'
    | 'COUNT'
    | undefined;
}

export interface GetOutput {
  readonly Item?: DocumentItem;
}

/** `Attributes` is present when `ReturnValues` asked for them. */
export interface WriteOutput {
  readonly Attributes?: DocumentItem;
}

export interface QueryOutput {
  readonly Items: DocumentItem[];
  readonly Count: number;
  readonly ScannedCount: number;
  readonly LastEvaluatedKey?: DocumentItem;
}

/** What voicedrop writes with: `undefined` fields are left out; class instances are refused, not flattened. */
export const VOICEDROP_MARSHALL_OPTIONS: MarshallOptions = {
  removeUndefinedValues: true,
  convertClassInstanceToMap: false,
};

type WireItem = Record<string, unknown>;

/**
 * A document-level DynamoDB client over the JSON 1.0 protocol (`DynamoDB_20120810.<Operation>`): plain
 * JavaScript values in and out, marshalled as @aws-sdk/lib-dynamodb does (see dynamodb-values.ts;
 * the SDK's util-dynamodb is not bundled). A failed condition throws `AwsServiceError` named
 * `ConditionalCheckFailedException`.
 */
export class DynamoDocumentClient {
  private readonly marshallOptions: MarshallOptions;

  constructor(
    private readonly settings: AwsSettings,
    options: { readonly marshallOptions?: MarshallOptions } = {},
  ) {
    // A copy: @aws-sdk/lib-dynamodb sets `convertTopLevelContainer: true` on the options object it is
    // given (tests share this constant with it); marshallItem ignores that option anyway.
    this.marshallOptions = { ...(options.marshallOptions ?? VOICEDROP_MARSHALL_OPTIONS) };
  }

  async get(input: GetInput, options?: AwsCallOptions): Promise<GetOutput> {
    const output = await this.call<{ Item?: WireItem }>(
      'GetItem',
      { ...input, Key: this.toWire(input.Key) },
      options,
    );
    return output.Item ? { Item: fromWire(output.Item) } : {};
  }

  async put(input: PutInput, options?: AwsCallOptions): Promise<WriteOutput> {
    const output = await this.call<{ Attributes?: WireItem }>(
      'PutItem',
      {
        ...input,
        Item: this.toWire(input.Item),
        ExpressionAttributeValues: this.toWireOptional(input.ExpressionAttributeValues),
      },
      options,
    );
    return attributes(output);
  }

  async update(input: UpdateInput, options?: AwsCallOptions): Promise<WriteOutput> {
    const output = await this.call<{ Attributes?: WireItem }>(
      'UpdateItem',
      {
        ...input,
        Key: this.toWire(input.Key),
        ExpressionAttributeValues: this.toWireOptional(input.ExpressionAttributeValues),
      },
      options,
    );
    return attributes(output);
  }

  async delete(input: DeleteInput, options?: AwsCallOptions): Promise<WriteOutput> {
    const output = await this.call<{ Attributes?: WireItem }>(
      'DeleteItem',
      {
        ...input,
        Key: this.toWire(input.Key),
        ExpressionAttributeValues: this.toWireOptional(input.ExpressionAttributeValues),
      },
      options,
    );
    return attributes(output);
  }

  /** One page; pass `LastEvaluatedKey` back as `ExclusiveStartKey` for the next. */
  async query(input: QueryInput, options?: AwsCallOptions): Promise<QueryOutput> {
    const output = await this.call<{
      Items?: WireItem[];
      Count?: number;
      ScannedCount?: number;
      LastEvaluatedKey?: WireItem;
    }>(
      'Query',
      {
        ...input,
        ExpressionAttributeValues: this.toWireOptional(input.ExpressionAttributeValues),
        ExclusiveStartKey: this.toWireOptional(input.ExclusiveStartKey),
      },
      options,
    );
    return {
      Items: (output.Items ?? []).map(fromWire),
      Count: output.Count ?? 0,
      ScannedCount: output.ScannedCount ?? 0,
      ...(output.LastEvaluatedKey ? { LastEvaluatedKey: fromWire(output.LastEvaluatedKey) } : {}),
    };
  }

  private call<Output>(operation: string, input: object, options: AwsCallOptions = {}): Promise<Output> {
    return jsonRpc<Output>(
      this.settings,
      {
        service: 'dynamodb',
        hostPrefix: 'dynamodb',
        target: `DynamoDB_20120810.${operation}`,
        jsonVersion: '1.0',
        input,
        reviver: binariesFromBase64,
      },
      options,
    );
  }

  private toWire(item: DocumentItem): WireItem {
    return marshallItem(item, this.marshallOptions);
  }

  private toWireOptional(item: DocumentItem | undefined): WireItem | undefined {
    return item === undefined ? undefined : this.toWire(item);
  }
}

function fromWire(item: WireItem): DocumentItem {
  return unmarshallItem(item);
}

/**
 * Binary attribute values arrive as base64 strings (`{"B":"AAEC"}`, `{"BS":["AA=="]}`); unmarshall wants
 * bytes. The test is unambiguous: an attribute *named* B or BS holds an object (`{"B":{"S":"…"}}`), never
 * a bare string or array.
 */
function binariesFromBase64(key: string, value: unknown): unknown {
  if (key === 'B' && typeof value === 'string') return fromBase64(value);
  if (key === 'BS' && Array.isArray(value)) {
    return value.map((entry) => (typeof entry === 'string' ? fromBase64(entry) : entry));
  }
  return value;
}

function fromBase64(text: string): Uint8Array {
  // A copy, so the caller's bytes do not share Buffer's pool.
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function attributes(output: { Attributes?: WireItem }): WriteOutput {
  return output.Attributes ? { Attributes: fromWire(output.Attributes) } : {};
}
