import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import {
  type IGrantable,
  type IPrincipal,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { CONSENT_ID_PREFIX } from '../functions/shared/consents/record';
import {
  CONSENT_EVIDENCE_PREFIX,
  ENV,
  INCOMING_PREFIX,
  SPEECH_CACHE_PREFIX,
  SPEECH_PREFIX,
  VOICES_BY_CONSENT_INDEX,
  VOICES_BY_CREATED_AT_INDEX,
} from '../functions/shared/contract';
import { acknowledge, wildcardResourceFinding } from './acknowledgements';

/** The repository root: where package.json, package-lock.json and tsconfig.json live. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

// esbuild's ESM output reaches CommonJS dependencies through `require`, which ES modules do not have.
// The alias keeps the import from colliding with a bundled `createRequire`.
export const ESM_REQUIRE_BANNER =
  "import { createRequire as voicedropCreateRequire } from 'node:module'; const require = voicedropCreateRequire(import.meta.url);";

/**
 * Modules put at the top of every Lambda bundle (esbuild `inject`; paths relative to the repository root):
 * stack traces mapped to the original sources through the map next to the bundle, read on first use
 * instead of by `--enable-source-maps` at every cold start (about 15 ms).
 */
export const BUNDLE_INJECTS: readonly string[] = ['lib/bundle-inject/source-mapped-stack-traces.ts'];

/**
 * Modules the Lambda bundles replace with a smaller one of the exports they use (esbuild aliases; paths
 * relative to the repository root). Only the bundles: tests and local mode import the real modules.
 *
 * - The SDK clients' default credential chain, cut down to its environment link: in Lambda the role's
 *   credentials are always in the environment, and the chain's other links (SSO, ini files,
 *   credential_process, web identity, container and instance metadata) are about 110 KB of each bundle and
 *   import `node:http`, whose ES module facade loads Node's undici at cold start.
 * - The SDK's event streams, which no function uses: reached by a dynamic `import()`, they made esbuild wrap
 *   about 170 SDK modules in lazy initialisers that also keep their unused code.
 *
 * The README's Performance section has the measurements behind both; test/infra/bundles.test.ts fails when
 * one stops applying.
 */
export const BUNDLE_SUBSTITUTES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': 'lib/bundle-substitutes/credential-provider-node.ts',
  '@smithy/core/event-streams': 'lib/bundle-substitutes/smithy-event-streams.ts',
};

export interface HouseFunctionProps {
  /** The handler module, relative to the repository root, e.g. `functions/clone/handler.ts`. */
  readonly entry: string;
  /**
   * The exported handler.
   * @default 'handler'
   */
  readonly handler?: string;
  /** Explicit for every function: Lambda's 128 MB default starves audio parsing and the SDK clients. */
  readonly memorySize: number;
  /** Explicit for every function: queue visibility timeouts and provider deadlines are derived from it. */
  readonly timeout: Duration;
  readonly description: string;
  /**
   * Powertools service name (POWERTOOLS_SERVICE_NAME): the `service` key of every log line and the `service`
   * dimension of every metric the handler emits.
   */
  readonly serviceName: string;
  /** CloudWatch namespace of the handler's embedded metrics (POWERTOOLS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  readonly logRetention: RetentionDays;
  /** What stack deletion does to the log group; follows the data's removal policy. */
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Both Lambda's application log level and POWERTOOLS_LOG_LEVEL, kept equal because Lambda drops
   * lines below its own level before Powertools' setting matters.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /** Variables no intent method covers. Prefer intent methods: they grant and configure together. */
  readonly environment?: Readonly<Record<string, string>>;
}

/** How every function is bundled: local esbuild, ESM, minified, the SDK inside, with its substitutes. */
const BUNDLING: BundlingOptions = {
  // Never Docker: synth must work on a laptop or CI runner without it, with the esbuild from the lock file.
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  target: 'node24',
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  // The map ships next to the bundle but unannounced (no sourceMappingURL comment), so Node does not
  // read it at every cold start; the injected module maps a stack trace when one is first formatted.
  sourceMap: true,
  sourceMapMode: SourceMapMode.EXTERNAL,
  inject: BUNDLE_INJECTS.map((module) => path.join(REPOSITORY_ROOT, module)),
  // Stack traces need only the mappings; the source text stays out of the deployed asset.
  sourcesContent: false,
  // The SDK version is pinned by our lock file and tested, not whatever the runtime ships this month.
  bundleAwsSDK: true,
  esbuildArgs: Object.fromEntries(
    Object.entries(BUNDLE_SUBSTITUTES).map(([module, substitute]) => [
      `--alias:${module}`,
      path.join(REPOSITORY_ROOT, substitute),
    ]),
  ),
};

/**
 * The one way this project builds a Lambda function: Node.js 24 on arm64, an ESM bundle made by local
 * esbuild with the AWS SDK inside (its credential chain cut down to the environment), stack traces mapped to
 * the sources on first use, JSON logs into its own log group with retention, X-Ray active tracing, and a role
 * that starts with nothing but that log group. Intent methods (`readsUploads`, `writesVoicesTable`, …) each
 * grant exact actions on exact resources and set the environment variable the handler reads; a grant on a
 * resource pattern (`incoming/*`) carries the written reason cdk-nag asks for.
 */
export class HouseFunction extends Construct implements IGrantable {
  readonly lambdaFunction: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  readonly timeout: Duration;
  readonly grantPrincipal: IPrincipal;

  private readonly environment = new Map<string, string>();

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout;
    const logLevel = props.logLevel ?? 'INFO';

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.role = this.createExecutionRole(props.description);
    this.grantPrincipal = this.role;

    this.lambdaFunction = new NodejsFunction(this, 'Function', {
      entry: path.join(REPOSITORY_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // Lambda sends each invocation's segments (init, invocation) to X-Ray, in the trace API Gateway started;
      // subsegments for SDK and provider calls need the handler to instrument them (Powertools Tracer).
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[logLevel],
      systemLogLevelV2: SystemLogLevel.INFO,
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: path.join(REPOSITORY_ROOT, 'package-lock.json'),
      bundling: BUNDLING,
    });

    this.addEnvironment('POWERTOOLS_SERVICE_NAME', props.serviceName);
    this.addEnvironment('POWERTOOLS_LOG_LEVEL', logLevel);
    this.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', props.metricsNamespace);
    for (const [name, value] of Object.entries(props.environment ?? {})) {
      this.addEnvironment(name, value);
    }
    acknowledge(
      this.policyScope,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords (exact actions, added by ' +
        'Lambda tracing) have no resource-level permissions, so X-Ray only accepts Resource "*".',
    );
  }

  /**
   * An own role instead of the default one, whose AWSLambdaBasicExecutionRole may create and write any
   * log group in the account: this one may write its own log group only.
   */
  private createExecutionRole(description: string): Role {
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${description} (execution role)`,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    return role;
  }

  /**
   * Reads uploaded audio (HEAD and ranged GET, also of a given version) under `incoming/` only. Sets no
   * variable: the bucket arrives with every S3 event.
   */
  readsUploads(bucket: IBucket): this {
    this.allow(['s3:GetObject', 's3:GetObjectVersion'], [bucket.arnForObjects(`${INCOMING_PREFIX}*`)], {
      wildcardReason:
        'Reads the one upload named by each S3 event; any key below incoming/ can arrive, so the grant is ' +
        'the incoming/ prefix of this bucket, read-only.',
    });
    // Without ListBucket, S3 answers a HEAD for a vanished upload with 403 instead of 404, and the clone
    // handler would retry a permissions-looking failure into the DLQ instead of recording `source_missing`.
    // It reveals key names only, of a bucket whose objects this function reads anyway.
    this.allow(['s3:ListBucket'], [bucket.bucketArn]);
    return this;
  }

  /** Reads voice records and audio claims by key (VOICES_TABLE_NAME). */
  readsVoicesTable(table: ITable): this {
    this.allow(['dynamodb:GetItem'], [table.tableArn]);
    this.addEnvironment(ENV.voicesTableName, table.tableName);
    return this;
  }

  /**
   * Creates and moves voice records and creates, takes over and releases audio claims (VOICES_TABLE_NAME).
   * Every write is a single-item conditional write, so no transaction or ConditionCheckItem is granted;
   * DeleteItem is for releasing claims (voice records are marked `deleted`, never removed).
   */
  writesVoicesTable(table: ITable): this {
    this.allow(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [table.tableArn]);
    this.addEnvironment(ENV.voicesTableName, table.tableName);
    return this;
  }

  /**
   * Moves existing voice records (deletion) and releases audio claims (VOICES_TABLE_NAME). No PutItem: only
   * the clone function creates records and claims.
   */
  updatesVoicesTable(table: ITable): this {
    this.allow(['dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [table.tableArn]);
    this.addEnvironment(ENV.voicesTableName, table.tableName);
    return this;
  }

  /** Lists voices newest first: Query on the `byCreatedAt` index only, never on the table (VOICES_TABLE_NAME). */
  listsVoices(table: ITable): this {
    this.allow(['dynamodb:Query'], [`${table.tableArn}/index/${VOICES_BY_CREATED_AT_INDEX}`]);
    this.addEnvironment(ENV.voicesTableName, table.tableName);
    return this;
  }

  /**
   * Stores synthesized audio under `speech/` and reads it back (BUCKET_NAME). GetObject is what the
   * presigned GET URLs it hands out rely on: S3 checks the signer's permissions when the URL is used.
   */
  storesSpeech(bucket: IBucket): this {
    this.allow(['s3:PutObject', 's3:GetObject'], [bucket.arnForObjects(`${SPEECH_PREFIX}*`)], {
      wildcardReason:
        'Synthesized audio gets a new key per request below speech/ (expired by a lifecycle rule within ' +
        'days); the grant is that prefix of this bucket only.',
    });
    this.addEnvironment(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /**
   * Reads and writes the synthesis cache under `cache/` (BUCKET_NAME). No ListBucket: a missing entry then
   * answers 403 rather than 404, which the cache reads as "not cached" (functions/api/speech/synthesis-cache.ts).
   */
  cachesSpeech(bucket: IBucket): this {
    this.allow(['s3:GetObject', 's3:PutObject'], [bucket.arnForObjects(`${SPEECH_CACHE_PREFIX}*`)], {
      wildcardReason:
        'Cached speech lives at cache/<voiceId>/<hash of the request>: any key below cache/ can be read or ' +
        'written; the grant is that prefix of this bucket only.',
    });
    this.addEnvironment(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /** Deletes a voice's cached speech: lists `cache/` (only) and deletes below it (BUCKET_NAME). */
  deletesSpeechCache(bucket: IBucket): this {
    this.allow(['s3:ListBucket'], [bucket.bucketArn], {
      conditions: { StringLike: { 's3:prefix': [`${SPEECH_CACHE_PREFIX}*`] } },
    });
    this.allow(['s3:DeleteObject'], [bucket.arnForObjects(`${SPEECH_CACHE_PREFIX}*`)], {
      wildcardReason:
        'Deleting a voice deletes every cached piece of its speech below cache/<voiceId>/; the grant is ' +
        'that prefix of this bucket only.',
    });
    this.addEnvironment(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /**
   * Signs presigned POST forms for uploads under `incoming/` (BUCKET_NAME). The function never uploads
   * itself: the grant is what makes the forms it signs work, and it limits them to `incoming/`.
   */
  presignsUploads(bucket: IBucket): this {
    this.allow(['s3:PutObject'], [bucket.arnForObjects(`${INCOMING_PREFIX}*`)], {
      wildcardReason:
        'Presigned upload forms name a key the caller chooses below incoming/; the grant limits every form ' +
        'this function signs to that prefix of this bucket.',
    });
    this.addEnvironment(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /**
   * Deletes every version of uploaded audio under `incoming/`, delete markers included (BUCKET_NAME). Finding
   * the versions lists the bucket, which the `s3:prefix` condition keeps to `incoming/`.
   */
  deletesUploads(bucket: IBucket): this {
    this.allow(['s3:DeleteObject', 's3:DeleteObjectVersion'], [bucket.arnForObjects(`${INCOMING_PREFIX}*`)], {
      wildcardReason:
        'Deleting a voice deletes every version of its source audio, which may be any key below incoming/; ' +
        'the grant is that prefix of this bucket only.',
    });
    this.allow(['s3:ListBucketVersions', 's3:ListBucket'], [bucket.bucketArn], {
      conditions: { StringLike: { 's3:prefix': `${INCOMING_PREFIX}*` } },
    });
    this.addEnvironment(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /**
   * Deletes a voice's stored speech (`"delivery": "url"` files below speech/<voiceId>/): lists `speech/`
   * (only) and deletes below it (BUCKET_NAME).
   */
  deletesStoredSpeech(bucket: IBucket): this {
    this.allow(['s3:ListBucket'], [bucket.bucketArn], {
      conditions: { StringLike: { 's3:prefix': [`${SPEECH_PREFIX}*`] } },
    });
    this.allow(['s3:DeleteObject'], [bucket.arnForObjects(`${SPEECH_PREFIX}*`)], {
      wildcardReason:
        'Deleting a voice deletes the speech stored for it below speech/<voiceId>/; the grant is that prefix ' +
        'of this bucket only.',
    });
    this.addEnvironment(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /**
   * Records new consents (VOICES_TABLE_NAME): PutItem only on items whose key starts `cs_` (the
   * `dynamodb:LeadingKeys` condition), so this grant cannot create or overwrite voice records or claims.
   * Revocation is an UpdateItem (updatesVoicesTable).
   */
  recordsConsents(table: ITable): this {
    this.allow(['dynamodb:PutItem'], [table.tableArn], {
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${CONSENT_ID_PREFIX}*`] } },
    });
    this.addEnvironment(ENV.voicesTableName, table.tableName);
    return this;
  }

  /** Lists the voices cloned under a consent: Query on the `byConsent` index only (VOICES_TABLE_NAME). */
  listsConsentVoices(table: ITable): this {
    this.allow(['dynamodb:Query'], [`${table.tableArn}/index/${VOICES_BY_CONSENT_INDEX}`]);
    this.addEnvironment(ENV.voicesTableName, table.tableName);
    return this;
  }

  /** Checks that a consent's evidence exists (HEAD below `consents/`; BUCKET_NAME). */
  readsConsentEvidence(bucket: IBucket): this {
    this.allow(['s3:GetObject'], [bucket.arnForObjects(`${CONSENT_EVIDENCE_PREFIX}*`)], {
      wildcardReason:
        'POST /consents checks that the evidence key it is given exists; any key below consents/ can be ' +
        'named, and the grant is that prefix of this bucket only, read-only.',
    });
    this.addEnvironment(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /** Reads the provider-keys secret (PROVIDER_KEYS_SECRET_ARN); encrypted with the AWS managed key. */
  readsProviderKeys(secret: ISecret): this {
    // An imported secret known by a partial ARN needs the random suffix Secrets Manager appends.
    this.allow(['secretsmanager:GetSecretValue'], [secret.secretFullArn ?? `${secret.secretArn}-??????`]);
    this.addEnvironment(ENV.providerKeysSecretArn, secret.secretArn);
    return this;
  }

  /** Sets a variable; setting one name to two different values is a wiring mistake and throws. */
  addEnvironment(name: string, value: string): this {
    const existing = this.environment.get(name);
    if (existing !== undefined && existing !== value) {
      throw new Error(`${this.node.path}: environment variable ${name} is already set to a different value`);
    }
    this.environment.set(name, value);
    this.lambdaFunction.addEnvironment(name, value);
    return this;
  }

  /**
   * The role's default policy, where every grant lands (intent methods, event sources, tracing): the
   * narrowest construct an acknowledgement of one of its findings can sit on.
   */
  private get policyScope(): IConstruct {
    return this.role.node.tryFindChild('DefaultPolicy') ?? this.role;
  }

  /**
   * Grants exact actions. A resource with a `*` in it (an object prefix) needs a written reason, which is
   * recorded as the acknowledgement of exactly that cdk-nag finding (AwsSolutions-IAM5 for that resource).
   */
  private allow(
    actions: string[],
    resources: string[],
    options: { readonly conditions?: Record<string, unknown>; readonly wildcardReason?: string } = {},
  ): void {
    if (actions.some((action) => action.includes('*'))) {
      throw new Error(`${this.node.path}: grant exact actions, not ${actions.join(', ')}`);
    }
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions, resources, conditions: options.conditions }),
    );
    for (const resource of resources) {
      const finding = wildcardResourceFinding(this, resource);
      if (!finding) continue;
      if (!options.wildcardReason) {
        throw new Error(`${this.node.path}: the grant on ${finding} needs a reason for its wildcard`);
      }
      acknowledge(this.policyScope, finding, options.wildcardReason);
    }
  }
}
