import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { DeadlineBoundHttpHandler } from '../shared/aws-deadline';
import { EnvironmentReader } from '../shared/config';
import { ENV, SERVICE_NAMES } from '../shared/contract';
import { createLogger } from '../shared/logger';
import { eventBridgePublisher } from './publish';
import { handleVoiceStream } from './stream-batch';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const eventBusName = environment.required(ENV.eventBusName);
environment.done();

const log = createLogger(SERVICE_NAMES.events);
const publish = eventBridgePublisher(
  new EventBridgeClient({ requestHandler: new DeadlineBoundHttpHandler() }),
);

/** The voices table's stream (filtered to status changes of voice records) → bus `voicedrop`. */
export const handler = async (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<DynamoDBBatchResponse> => {
  log.addContext(context);
  return handleVoiceStream(event, { publish, eventBusName, log });
};
