/**
 * Retention on local mode's data. Local mode sweeps at start and then daily (startRetentionSchedule);
 * `npm run retention -- --local` sweeps on demand (runLocalRetention): through the running local mode's
 * servers and simulators when it runs (it leaves their addresses in <data-dir>/local-mode.json), otherwise
 * on the data folder itself, with the servers and providers local mode would start.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RetentionSettings } from '../functions/retention/policy';
import { readRetentionSettings } from '../functions/retention/settings';
import { type SweepReport, sweepRetention } from '../functions/retention/sweep';
import { EnvironmentReader } from '../functions/shared/config';
import { createStaticKeyStore } from '../functions/shared/keys';
import { describeError, type Log } from '../functions/shared/logger';
import { noMetrics } from '../functions/shared/metrics';
import { createProviders, readProviderSettings } from '../functions/shared/providers/settings';
import { PROVIDER_NAMES, type ProviderName } from '../functions/shared/providers/types';
import type { DeleteDependencies } from '../functions/shared/voices/deletion';
import { VoiceRepository } from '../functions/shared/voices/repository';
import { speechLatencyFromEnvironment } from '../simulators/latency';
import { configuredProviders, LOCAL_KEY_SOURCE, SIMULATOR_KEYS, startLocalProviders } from './providers';
import {
  type Closer,
  dataPaths,
  ensureVoicesTable,
  localDynamoClient,
  localS3Client,
  startLocalDynamo,
  startLocalS3,
} from './servers';
import { LocalTableStream } from './table-stream';

const DAY_MS = 86_400_000;

/** What a running local mode leaves in its data folder so tools can reach its data. */
export interface LocalModeState {
  readonly pid: number;
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly bucket: string;
  readonly table: string;
  readonly simulatorUrls: Readonly<Partial<Record<ProviderName, string>>>;
}

export function localModeStateFile(dataDir: string): string {
  return join(resolve(dataDir), 'local-mode.json');
}

export async function writeLocalModeState(
  dataDir: string,
  state: LocalModeState,
): Promise<() => Promise<void>> {
  const file = localModeStateFile(dataDir);
  await writeFile(file, `${JSON.stringify(state, null, 2)}\n`);
  return () => unlink(file).catch(() => undefined);
}

/** The running local mode's state, or undefined when none runs on this data folder. */
async function runningLocalMode(dataDir: string): Promise<LocalModeState | undefined> {
  let state: LocalModeState;
  try {
    state = JSON.parse(await readFile(localModeStateFile(dataDir), 'utf8')) as LocalModeState;
  } catch {
    return undefined;
  }
  try {
    process.kill(state.pid, 0);
    return state;
  } catch {
    // Left behind by a local mode that was killed.
    return undefined;
  }
}

/**
 * Sweeps local mode's data once with the clock at `asOf`, with the retention settings from the environment
 * (RETENTION_UNUSED_DAYS, RETENTION_MAX_AGE_DAYS, RETENTION_REJECTED_DAYS).
 */
export async function runLocalRetention(options: {
  readonly dataDir: string;
  readonly asOf: Date;
  readonly dryRun: boolean;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly log: Log;
  readonly bucket: string;
  readonly table: string;
}): Promise<SweepReport & { readonly via: 'running local mode' | 'data folder' }> {
  const reader = new EnvironmentReader(options.environment);
  const settings = readRetentionSettings(reader);
  const providerSettings = readProviderSettings(reader);
  const simulatorLatency = reader.parsed(speechLatencyFromEnvironment, {});
  const configured = configuredProviders(reader);
  reader.done();
  const closers: Closer[] = [];
  try {
    const running = await runningLocalMode(options.dataDir);
    let endpoints: { dynamodb: string; s3: string };
    const keys: Partial<Record<ProviderName, string>> = {};
    const baseUrls = { ...providerSettings.baseUrls };
    if (running) {
      endpoints = { dynamodb: running.dynamodbEndpoint, s3: running.s3Endpoint };
      for (const provider of PROVIDER_NAMES) {
        const url = running.simulatorUrls[provider];
        if (url) {
          baseUrls[provider] = url;
          keys[provider] = SIMULATOR_KEYS[provider];
        } else keys[provider] = configured[provider].key;
      }
    } else {
      const paths = dataPaths(resolve(options.dataDir));
      const dynamo = await startLocalDynamo({ port: 0, directory: paths.dynamodb });
      closers.push(dynamo.close);
      // The sweep's deletions are status changes like any other: captured into the table's stream stand-in,
      // so local mode announces them (Voice Deleted, webhooks) when it next starts.
      await LocalTableStream.capture({ store: dynamo.store, tableName: options.table, log: options.log });
      const s3 = await startLocalS3({ port: 0, directory: paths.s3, bucket: options.bucket });
      closers.push(s3.close);
      endpoints = { dynamodb: dynamo.endpoint, s3: s3.endpoint };
      const dynamoClient = localDynamoClient(dynamo.endpoint);
      await ensureVoicesTable(dynamoClient, options.table);
      const started = await startLocalProviders({
        dynamoClient,
        tableName: options.table,
        configured,
        simulatorLatency,
        settings: providerSettings,
        closers,
      });
      Object.assign(keys, started.keys);
      Object.assign(baseUrls, started.baseUrls);
    }
    const dependencies = localSweepDependencies(endpoints, options.bucket, options.table, keys, baseUrls, {
      timeoutMs: providerSettings.timeoutMs,
      log: options.log,
    });
    const report = await sweepRetention(
      settings,
      { asOf: options.asOf, dryRun: options.dryRun },
      dependencies,
    );
    return { ...report, via: running ? 'running local mode' : 'data folder' };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

function localSweepDependencies(
  endpoints: { dynamodb: string; s3: string },
  bucket: string,
  table: string,
  keys: Partial<Record<ProviderName, string>>,
  baseUrls: Record<ProviderName, string>,
  options: { timeoutMs: number; log: Log },
): DeleteDependencies {
  const keyStore = createStaticKeyStore(keys, LOCAL_KEY_SOURCE);
  return {
    s3: localS3Client(endpoints.s3),
    bucket,
    voices: new VoiceRepository(localDynamoClient(endpoints.dynamodb), table),
    providers: createProviders(keyStore, { baseUrls, timeoutMs: options.timeoutMs }),
    logger: options.log,
    metrics: noMetrics,
    now: () => new Date(),
  };
}

/** Local mode's own sweep: once at start, then every day while it runs. Returns its stop function. */
export function startRetentionSchedule(options: {
  readonly settings: RetentionSettings;
  readonly dependencies: DeleteDependencies;
  readonly log: Log;
}): () => Promise<void> {
  let running: Promise<void> | undefined;
  const sweep = () => {
    if (running) return;
    running = sweepRetention(options.settings, { asOf: new Date() }, options.dependencies)
      .then((report) => {
        if (report.deleted.length + report.failed.length > 0 || !report.complete) {
          options.log.info('retention sweep', {
            deleted: report.deleted.length,
            kept: report.kept.length,
            failed: report.failed.length,
            complete: report.complete,
          });
        }
      })
      .catch((error: unknown) => options.log.error('retention sweep failed', { error: describeError(error) }))
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, DAY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
