import { parseArgs } from 'node:util';
import { ENV } from '../functions/shared/contract';
import { errorMessage } from '../functions/shared/errors';
import type { Log } from '../functions/shared/logger';
import { SMALLEST_DELETE_MODES, type SmallestDeleteMode } from '../simulators/smallest/simulator';
import { watchInbox } from './inbox';
import { type LocalPipeline, type ReadyInfo, startLocalPipeline } from './pipeline';
import { localS3Client } from './servers';

const USAGE = `Usage: npm start -- [--data-dir DIR] [--s3-port N] [--dynamodb-port N] [--api-port N] [--sim]
                 [--sim-smallest-delete ${SMALLEST_DELETE_MODES.join('|')}] [--require-consent] [--webhook URL]... [--verbose]

Runs the voicedrop pipeline on this machine: an S3-compatible server, a DynamoDB-compatible server,
the clone handler, and the providers (live when ${ENV.smallestApiKey} / ${ENV.typecastApiKey} or their
*_API_BASE_URL are set, built-in simulators otherwise or with --sim). Port 0 picks a free port.
The Smallest simulator refuses API-key deletes as Smallest does (api-key-refused, the default);
--sim-smallest-delete lightning-large makes it delete through the guide's route.
--require-consent rejects uploads that name no valid consent (POST /consents), as consent.required does.
${ENV.retentionUnusedDays}, ${ENV.retentionMaxAgeDays} and ${ENV.retentionRejectedDays} (default 30) set the retention
sweep, which runs at start and daily.
Each voice event is appended to <data-dir>/events.jsonl; --webhook URL (repeatable) also delivers it
there as a Standard Webhooks POST signed with ${ENV.webhookSecret} (whsec_…; generated when absent).`;

function parseWebhooks(values: readonly string[] | undefined): string[] {
  return (values ?? []).map((value) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      usageError(`--webhook must be an http(s) URL (got "${value}")`);
    }
    return url.href;
  });
}

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parseDeleteMode(value: string | undefined): SmallestDeleteMode | undefined {
  if (value === undefined) return undefined;
  const mode = SMALLEST_DELETE_MODES.find((candidate) => candidate === value);
  if (!mode)
    usageError(`--sim-smallest-delete must be one of ${SMALLEST_DELETE_MODES.join(', ')} (got "${value}")`);
  return mode;
}

function parsePort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    usageError(`--${name} must be a port number from 0 to 65535 (got "${value}")`);
  }
  return port;
}

function terminalLog(verbose: boolean): Log {
  const write = (level: string, message: string, attributes?: Record<string, unknown>) => {
    const line = JSON.stringify({ level, message, ...attributes });
    process.stderr.write(`${line}\n`);
  };
  return {
    debug: (message, attributes) => verbose && write('DEBUG', message, attributes),
    info: (message, attributes) => {
      if (message === 'voice status' && attributes) {
        const code = attributes.errorCode ? ` (${String(attributes.errorCode)})` : '';
        process.stdout.write(
          `voice ${String(attributes.voiceId)} ${String(attributes.status)}${code} [${String(attributes.provider)}]\n`,
        );
      }
      if (message === 'voice event' && attributes) {
        process.stdout.write(
          `event ${String(attributes.type)} ${String(attributes.voiceId)} [${String(attributes.provider)}] ${String(attributes.eventId)}\n`,
        );
      }
      if (verbose) write('INFO', message, attributes);
    },
    warn: (message, attributes) => write('WARN', message, attributes),
    error: (message, attributes) => write('ERROR', message, attributes),
  };
}

/** What DELETE does to a simulated Smallest voice, which a user would otherwise meet as a surprise. */
function smallestDeleteNote(mode: string | undefined): string {
  if (mode !== undefined && mode !== 'api-key-refused') return '';
  return (
    '  (the Smallest simulator refuses API-key deletes, as Smallest does: the voice leaves voicedrop,\n' +
    '   its clone stays; start with --sim-smallest-delete lightning-large to delete clones too)\n'
  );
}

/** The command line's options; a malformed command line ends the process with the usage. */
function parseCommandLine(): Record<string, string | boolean | string[] | undefined> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        's3-port': { type: 'string' },
        'dynamodb-port': { type: 'string' },
        'api-port': { type: 'string' },
        sim: { type: 'boolean' },
        'require-consent': { type: 'boolean' },
        'sim-smallest-delete': { type: 'string' },
        webhook: { type: 'string', multiple: true },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (error) {
    usageError(errorMessage(error));
  }
  return parsed.values as Record<string, string | boolean | string[] | undefined>;
}

async function main(): Promise<void> {
  const values = parseCommandLine();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const log = terminalLog(values.verbose === true);
  const pipeline = await startLocalPipeline({
    dataDir: (values['data-dir'] as string | undefined) ?? '.voicedrop',
    s3Port: parsePort('s3-port', values['s3-port'] as string | undefined, 4569),
    dynamodbPort: parsePort('dynamodb-port', values['dynamodb-port'] as string | undefined, 8000),
    apiPort: parsePort('api-port', values['api-port'] as string | undefined, 3000),
    forceSimulators: values.sim === true,
    requireConsent: values['require-consent'] === true,
    smallestDeleteMode: parseDeleteMode(values['sim-smallest-delete'] as string | undefined),
    webhooks: parseWebhooks(values.webhook as string[] | undefined),
    log,
  });
  const { info } = pipeline;
  const inbox = watchInbox({
    inbox: info.inbox,
    s3: localS3Client(info.s3Endpoint),
    bucket: info.bucket,
    log,
  });

  // One write, so a reader that sees READY also has the banner.
  process.stdout.write(readyAndBanner(info, values['sim-smallest-delete'] as string | undefined));
  stopOnSignals(inbox, pipeline);
}

/** The READY line, then what is running and how to use it. */
function readyAndBanner(info: ReadyInfo, smallestDeleteMode: string | undefined): string {
  const credentials = `AWS_ACCESS_KEY_ID=${info.accessKeyId} AWS_SECRET_ACCESS_KEY=${info.secretAccessKey} AWS_DEFAULT_REGION=${info.region}`;
  const providers = Object.entries(info.providers)
    .map(([name, mode]) => `${name}: ${mode === 'sim' ? 'built-in simulator' : 'live'}`)
    .join(', ');
  return `READY ${JSON.stringify(info)}

voicedrop is running locally (Ctrl-C stops it; data stays in ${info.dataDir}).
  providers: ${providers}; default provider: ${info.defaultProvider}
  API:       ${info.apiEndpoint}
  S3:        ${info.s3Endpoint}  bucket ${info.bucket}
  DynamoDB:  ${info.dynamodbEndpoint}  table ${info.table}

Clone a voice from samples/sample.wav, or any recording of yours (WAV, MP3, M4A or WebM; 5–15 s for
smallest, 5–150 s for typecast):
  ${credentials} aws --endpoint-url ${info.s3Endpoint} s3 cp samples/sample.wav s3://${info.bucket}/incoming/smallest/Alice.wav
or drop the file into ${info.inbox}/smallest/ (or ${info.inbox}/ for the default provider).

Use the API (the same handler as in AWS; locally without SigV4):
  curl ${info.apiEndpoint}/voices
  curl ${info.apiEndpoint}/voices/VOICE_ID
  curl -X POST ${info.apiEndpoint}/voices/VOICE_ID/speech -H 'Content-Type: application/json' \\
       -d '{"text":"Hello from my cloned voice.","format":"wav"}' -o hello.wav
  curl -X DELETE ${info.apiEndpoint}/voices/VOICE_ID
${info.providers.smallest === 'sim' ? smallestDeleteNote(smallestDeleteMode) : ''}
Read the table directly:
  ${credentials} aws --endpoint-url ${info.dynamodbEndpoint} dynamodb scan --table-name ${info.table}

Voice events (received, ready, rejected, failed, duplicate, deleted) are appended to ${info.events}${
    info.webhooks.length
      ? `\nand delivered to ${info.webhooks.join(', ')} (Standard Webhooks${info.webhookSecret ? `; generated secret ${info.webhookSecret}: set ${ENV.webhookSecret} to keep one` : `, signed with ${ENV.webhookSecret}`}).`
      : '; --webhook URL delivers them as signed webhooks too.'
  }

Uploads that ran out of retries are kept in ${info.dataDir}/dead-letters.jsonl; fix the cause, then send them back:
  npm run redrive -- --local --data-dir ${info.dataDir}

`;
}

/** Ctrl-C (SIGINT) or SIGTERM stops the inbox watch, then the pipeline, finishing the work in flight. */
function stopOnSignals(inbox: ReturnType<typeof watchInbox>, pipeline: LocalPipeline): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping (finishing the work in flight)…\n`);
    await inbox.close();
    await pipeline.close();
    process.stdout.write('stopped.\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`voicedrop local mode failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
