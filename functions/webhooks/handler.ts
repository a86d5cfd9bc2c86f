import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { DeadlineBoundHttpHandler, withinInvocationDeadline } from '../shared/aws-deadline';
import { EnvironmentReader } from '../shared/config';
import { ENV, SERVICE_NAMES } from '../shared/contract';
import { ConfigurationError } from '../shared/errors';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { applyRedeliveries } from '../shared/sqs-redeliveries';
import '../shared/zod-messages';
import { handleWebhookBatch } from './batch';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const endpointsJson = environment.required(ENV.webhookEndpoints);
const deadLetterQueueUrl = environment.required(ENV.webhookDlqUrl);
environment.done();

/** `[{ id, url, secretArn }]`, written by the stack (lib/voicedrop-events.ts). */
const endpointList = z
  .array(z.object({ id: z.string(), url: z.url({ protocol: /^https$/ }), secretArn: z.string() }))
  .safeParse(JSON.parse(endpointsJson));
if (!endpointList.success)
  throw new ConfigurationError(`${ENV.webhookEndpoints} is malformed: ${endpointList.error.message}`);
const endpoints = new Map(endpointList.data.map((endpoint) => [endpoint.id, endpoint]));

const log = createLogger(SERVICE_NAMES.webhooks);
const metrics = createLambdaMetrics(SERVICE_NAMES.webhooks);
const secretsManager = new SecretsManagerClient({ requestHandler: new DeadlineBoundHttpHandler() });
const sqs = new SQSClient({ requestHandler: new DeadlineBoundHttpHandler() });
/** Signing secrets, read once per cold start (a failed read is not cached: the next delivery asks again). */
const secrets = new Map<string, Promise<string>>();

async function secretOf(endpointId: string): Promise<string> {
  const cached = secrets.get(endpointId);
  if (cached) return cached;
  const arn = endpoints.get(endpointId)?.secretArn;
  if (!arn) throw new Error(`no secret for webhook endpoint ${endpointId}`);
  const read = secretsManager.send(new GetSecretValueCommand({ SecretId: arn })).then((answer) => {
    const secret = answer.SecretString?.trim();
    if (!secret?.startsWith('whsec_'))
      throw new Error(`the secret of ${endpointId} is not a whsec_… signing secret`);
    return secret;
  });
  secrets.set(endpointId, read);
  read.catch(() => secrets.delete(endpointId));
  return read;
}

const REDELIVERY_ANSWER_RESERVE_MS = 250;

/** The webhook queue → one signed POST per message (functions/webhooks/batch.ts). */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  log.addContext(context);
  try {
    const result = await handleWebhookBatch(event, {
      endpoints,
      secretOf,
      deadLetter: async (record, reason) => {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: deadLetterQueueUrl,
            MessageBody: record.body,
            MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 256) } },
          }),
        );
      },
      log,
      count: (metric) => metrics.count(metric),
    });
    return await withinInvocationDeadline(context, REDELIVERY_ANSWER_RESERVE_MS, () =>
      applyRedeliveries(sqs, event.Records, result, log),
    );
  } finally {
    metrics.publish();
  }
};
