import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
// The tiny preset routes with PatternRouter alone (the default carries RegExpRouter and TrieRouter, ~6 KB
// of bundle) and is fast enough for a handful of routes.
import { Hono } from 'hono/tiny';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type * as z from 'zod/mini';
import { withinDeadline } from '../shared/aws-deadline';
import { CONSENT_ID_PATTERN } from '../shared/consents/record';
import { ConsentRepository } from '../shared/consents/repository';
import { API_GATEWAY_TIMEOUT_MS, SPEECH_STREAM_LIMIT_MS } from '../shared/contract';
import type { Log } from '../shared/logger';
import { type MetricsRecorder, noMetrics } from '../shared/metrics';
import type { ProviderName, VoiceProvider } from '../shared/providers/types';
import type { TrimMode } from '../shared/validation/options';
import { deleteVoice } from '../shared/voices/deletion';
import type { VoiceRepository } from '../shared/voices/repository';
import { createConsent, readConsent, revokeConsent } from './consents';
import { ApiError, toErrorAnswer } from './errors';
import {
  consentRequestSchema,
  listVoicesQuerySchema,
  speechRequestSchema,
  uploadRequestSchema,
  voiceIdSchema,
} from './schemas';
import { RECENT_PIECES, RecentPieces } from './speech/recent-pieces';
import { speak } from './speech/speak';
import { checkUploadConsent } from './upload-consent';
import { createUpload } from './uploads';
import { decodeCursor, encodeCursor, toVoiceJson } from './voice-json';

export interface ApiDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly voices: VoiceRepository;
  /** The consent ledger; default: the one in the voices table. */
  readonly consents?: ConsentRepository;
  /** Uploads must name a valid consent (`consent.required`, CONSENT_REQUIRED); default false. */
  readonly consentRequired?: boolean;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  readonly defaultProvider: ProviderName;
  readonly defaultModels: Readonly<Record<ProviderName, string>>;
  /** Synthesis requests one speech request keeps in flight per provider; default: the provider's limits. */
  readonly speechConcurrency?: Readonly<Record<ProviderName, number>>;
  readonly speechUrlTtlSeconds: number;
  readonly uploadUrlTtlSeconds: number;
  /**
   * The synthesis cache's tier in memory, shared by the app's requests; default: RECENT_PIECES (32 MiB,
   * 15 minutes). `false` sends every lookup to S3.
   */
  readonly recentPieces?: RecentPieces | false;
  /** Trim for uploads that do not say (TRIM_DEFAULT): it decides how large an upload form allows. */
  readonly defaultTrim?: TrimMode;
  readonly logger: Log;
  /** Business metrics (embedded metrics in AWS); nothing by default. */
  readonly metrics?: MetricsRecorder;
  readonly now?: () => Date;
}

/** Speech answers within API Gateway's 29 s: a provider 429 gets one retry, then the caller hears 429. */
export const SPEECH_PROVIDER_RETRY = { maxAttempts: 2 } as const;

/** Work stops this long before the invocation's end, so an answer (even an error) gets out. */
const RESPONSE_RESERVE_MS = 1_500;

/** The part of API Gateway's event that says who called (IAM auth: the SigV4 signer's ARN). */
interface CallerEvent {
  readonly requestContext?: {
    readonly identity?: { readonly userArn?: string | null; readonly caller?: string | null };
  };
}

type Environment = { Bindings: { lambdaContext?: Context; event?: CallerEvent } };

/** The dependencies with their defaults filled in once, as every route hands them on. */
type ApiServices = Omit<ApiDependencies, 'now' | 'metrics' | 'consents' | 'recentPieces'> & {
  readonly now: () => Date;
  readonly metrics: MetricsRecorder;
  readonly consents: ConsentRepository;
  /** Undefined when the memory tier is off (`recentPieces: false`). */
  readonly recentPieces: RecentPieces | undefined;
};

/**
 * The HTTPS API as one Hono app. The Lambda handler adapts API Gateway events at the edge
 * (`hono/aws-lambda`); tests and local mode call the same app.
 */
export function createApiApp(dependencies: ApiDependencies): Hono<Environment> {
  const services = withDefaults(dependencies);
  const app = new Hono<Environment>();
  useRequestDeadline(app);
  registerVoiceRoutes(app, services);
  registerConsentRoutes(app, services);
  registerSpeechRoute(app, services);
  registerUploadRoute(app, services);
  registerFallbacks(app, services);
  return app;
}

function withDefaults(dependencies: ApiDependencies): ApiServices {
  const { recentPieces } = dependencies;
  return {
    ...dependencies,
    now: dependencies.now ?? (() => new Date()),
    metrics: dependencies.metrics ?? noMetrics,
    consents: dependencies.consents ?? ConsentRepository.beside(dependencies.voices),
    recentPieces: recentPieces === false ? undefined : (recentPieces ?? new RecentPieces(RECENT_PIECES)),
  };
}

function useRequestDeadline(app: Hono<Environment>): void {
  // Every AWS call a request makes ends by the request's deadline, early enough for an answer.
  app.use(async (c, next) => {
    await withinDeadline(deadlineOf(c.env?.lambdaContext), next);
  });
}

/** GET /voices, GET /voices/:voiceId and DELETE /voices/:voiceId. */
function registerVoiceRoutes(app: Hono<Environment>, services: ApiServices): void {
  app.get('/voices', async (c) => {
    const query = parse(listVoicesQuerySchema, Object.fromEntries(new URL(c.req.url).searchParams));
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) {
      throw new ApiError(
        400,
        'invalid_cursor',
        'cursor is not one this API returned; start again without it.',
      );
    }
    const page = await services.voices.list({
      limit: query.limit,
      status: query.status,
      provider: query.provider,
      after,
    });
    return c.json({
      items: page.items.map(toVoiceJson),
      nextCursor: page.last ? encodeCursor(page.last) : null,
    });
  });

  app.get('/voices/:voiceId', async (c) => {
    const voiceId = pathVoiceId(c.req.param('voiceId'));
    const record = await services.voices.get(voiceId);
    if (!record) throw new ApiError(404, 'voice_not_found', `No voice ${voiceId}.`);
    if (record.status === 'deleted') {
      // Gone, but its receipt is the proof of deletion: the answer carries the record with it.
      const message = `Voice ${voiceId} was deleted at ${record.deletedAt ?? 'an earlier time'}.`;
      return c.json(
        { error: { code: 'voice_deleted', message, retryable: false }, voice: toVoiceJson(record) },
        410,
      );
    }
    return c.json(toVoiceJson(record));
  });

  app.delete('/voices/:voiceId', async (c) => {
    const voiceId = pathVoiceId(c.req.param('voiceId'));
    const by = principalOf(c.env?.event);
    const record = await deleteVoice(voiceId, { reason: 'requested', by }, services);
    return c.json(toVoiceJson(record));
  });
}

/** POST /consents, GET /consents/:consentId and DELETE /consents/:consentId. */
function registerConsentRoutes(app: Hono<Environment>, services: ApiServices): void {
  app.post('/consents', async (c) => {
    const request = parse(consentRequestSchema, await jsonBody(c.req.raw));
    const consent = await createConsent(request, principalOf(c.env?.event), services);
    return c.json(consent, 201);
  });

  app.get('/consents/:consentId', async (c) => {
    return c.json(await readConsent(pathConsentId(c.req.param('consentId')), services));
  });

  app.delete('/consents/:consentId', async (c) => {
    const consentId = pathConsentId(c.req.param('consentId'));
    return c.json(await revokeConsent(consentId, principalOf(c.env?.event), services));
  });
}

/** POST /voices/:voiceId/speech. */
function registerSpeechRoute(app: Hono<Environment>, services: ApiServices): void {
  app.post('/voices/:voiceId/speech', async (c) => {
    const voiceId = pathVoiceId(c.req.param('voiceId'));
    const request = parse(speechRequestSchema, await jsonBody(c.req.raw));
    // Streamed speech is bounded by the function's own time (up to 15 minutes), not the gateway's 29 s;
    // a caller that goes away stops it too.
    const signal = AbortSignal.any([
      c.req.raw.signal,
      AbortSignal.timeout(Math.max(1_000, streamDeadlineOf(c.env?.lambdaContext) - Date.now())),
    ]);
    const answer = await speak(voiceId, request, signal, services);
    afterResponse(c, answer.finished);
    const headers: Record<string, string> = {
      'X-Cache': answer.cache,
      'X-Speech-Chunks': String(answer.pieces),
    };
    if (answer.kind === 'url') return c.json(answer.body, 200, headers);
    if (answer.contentLength !== undefined) headers['Content-Length'] = String(answer.contentLength);
    return c.body(answer.body, 200, { ...headers, 'Content-Type': answer.contentType });
  });
}

/** POST /uploads. */
function registerUploadRoute(app: Hono<Environment>, services: ApiServices): void {
  app.post('/uploads', async (c) => {
    const request = parse(uploadRequestSchema, await jsonBody(c.req.raw));
    const { consents, now } = services;
    await checkUploadConsent(request.consentId, services.consentRequired === true, consents, now());
    return c.json(await createUpload(request, services), 201);
  });
}

/** The answers for an unknown route and for any error a route throws (logged, then mapped). */
function registerFallbacks(app: Hono<Environment>, { logger }: ApiServices): void {
  app.notFound((c) =>
    c.json(
      { error: { code: 'not_found', message: `No route ${c.req.method} ${c.req.path}.`, retryable: false } },
      404,
    ),
  );

  app.onError((error, c) => {
    const answer = toErrorAnswer(error);
    const details = {
      method: c.req.method,
      path: c.req.routePath,
      status: answer.statusCode,
      code: answer.body.error.code,
    };
    if (answer.unexpected) {
      logger.error('request failed', {
        ...details,
        error: error instanceof Error ? error.message : String(error),
      });
    } else {
      logger.info('request refused', details);
    }
    return c.json(answer.body, answer.statusCode as ContentfulStatusCode, { ...answer.headers });
  });
}

function parse<T extends z.ZodMiniType>(schema: T, input: unknown): z.infer<T> {
  return schema.parse(input);
}

/** A path id that cannot exist is simply not found (no need to tell callers about the id format). */
function pathVoiceId(raw: string): string {
  const parsed = voiceIdSchema.safeParse(raw);
  if (!parsed.success) throw new ApiError(404, 'voice_not_found', 'No such voice.');
  return parsed.data;
}

function pathConsentId(raw: string): string {
  if (!CONSENT_ID_PATTERN.test(raw)) throw new ApiError(404, 'consent_not_found', 'No such consent.');
  return raw;
}

/** Who called: the IAM principal API Gateway authenticated (local mode's gateway names a stand-in). */
function principalOf(event: CallerEvent | undefined): string {
  const identity = event?.requestContext?.identity;
  return identity?.userArn || identity?.caller || 'unidentified';
}

async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') throw new ApiError(400, 'invalid_json', 'The request needs a JSON body.');
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}

/**
 * Work to finish after the response (usage, metrics): handed to the execution context, whose owner (the
 * streaming adapter, functions/api/lambda-stream.ts) waits for it after the body has ended and before the
 * invocation returns. Without one (`app.request` in tests, the buffered adapter) the work just runs on.
 */
function afterResponse(
  c: { readonly executionCtx: { waitUntil(work: Promise<unknown>): void } },
  work: Promise<void>,
) {
  let context: { waitUntil(work: Promise<unknown>): void } | undefined;
  try {
    context = c.executionCtx;
  } catch {
    // Hono throws when the request came without an execution context.
  }
  context?.waitUntil(work);
}

/** When streamed speech must have ended: the invocation's own end, less the reserve. */
function streamDeadlineOf(context: Context | undefined): number {
  const remaining = context?.getRemainingTimeInMillis?.() ?? SPEECH_STREAM_LIMIT_MS;
  return Date.now() + Math.min(remaining, SPEECH_STREAM_LIMIT_MS) - RESPONSE_RESERVE_MS;
}

function deadlineOf(context: Context | undefined): number {
  const remaining = context?.getRemainingTimeInMillis?.() ?? API_GATEWAY_TIMEOUT_MS;
  return Date.now() + Math.min(remaining, API_GATEWAY_TIMEOUT_MS) - RESPONSE_RESERVE_MS;
}
