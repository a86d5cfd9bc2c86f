import { INCOMING_PREFIX } from '../shared/contract';
import { isProviderName, type ProviderName } from '../shared/providers/types';
import type { UploadOptions } from '../shared/validation/validate';

/** One object named by an S3 event notification, with its key already decoded. */
export interface UploadedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag?: string;
  readonly versionId?: string;
  readonly sequencer?: string;
  readonly eventTime?: string;
}

export type ParsedMessage =
  | { readonly kind: 'test-event' }
  | { readonly kind: 'objects'; readonly objects: readonly UploadedObject[] }
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * S3 event keys are form-URL-encoded (`+` for space, `%xx` for the rest): decode before any S3 call,
 * or keys with spaces and non-Latin characters are never found.
 */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, '%20'));
}

/** The inverse, as S3 writes keys into notifications (used by local mode to build real-shaped events). */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*~]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

interface S3EventRecordShape {
  eventName?: unknown;
  eventTime?: unknown;
  s3?: {
    bucket?: { name?: unknown };
    object?: { key?: unknown; size?: unknown; eTag?: unknown; versionId?: unknown; sequencer?: unknown };
  };
}

/** Parses the body of one SQS message sent by an S3 bucket notification. */
export function parseS3NotificationBody(body: string): ParsedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'malformed', reason: 'message body is not JSON' };
  }
  if (!parsed || typeof parsed !== 'object')
    return { kind: 'malformed', reason: 'message body is not an object' };
  const message = parsed as { Event?: unknown; Records?: unknown };
  // S3 sends this once when the notification is created.
  if (message.Event === 's3:TestEvent') return { kind: 'test-event' };
  if (!Array.isArray(message.Records)) return { kind: 'malformed', reason: 'no Records in the message' };
  const objects: UploadedObject[] = [];
  for (const record of message.Records as S3EventRecordShape[]) {
    if (typeof record.eventName !== 'string' || !record.eventName.startsWith('ObjectCreated:')) continue;
    const bucket = record.s3?.bucket?.name;
    const key = record.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof key !== 'string') {
      return { kind: 'malformed', reason: 'an S3 record has no bucket or key' };
    }
    let decodedKey: string;
    try {
      decodedKey = decodeS3EventKey(key);
    } catch {
      return {
        kind: 'malformed',
        reason: `object key is not URL-encoded as S3 sends it: ${key.slice(0, 200)}`,
      };
    }
    const object = record.s3?.object;
    objects.push({
      bucket,
      key: decodedKey,
      size: typeof object?.size === 'number' ? object.size : Number(object?.size ?? 0),
      etag: typeof object?.eTag === 'string' ? object.eTag.replace(/"/g, '') : undefined,
      versionId:
        typeof object?.versionId === 'string' && object.versionId !== '' ? object.versionId : undefined,
      sequencer: typeof object?.sequencer === 'string' ? object.sequencer : undefined,
      eventTime: typeof record.eventTime === 'string' ? record.eventTime : undefined,
    });
  }
  return { kind: 'objects', objects };
}

export type UploadRoute =
  | { readonly kind: 'upload'; readonly provider: ProviderName; readonly fileName: string }
  | { readonly kind: 'unknown-provider'; readonly folder: string; readonly fileName: string }
  /** Not an upload at all: a "folder" placeholder or something outside `incoming/`. */
  | { readonly kind: 'ignore'; readonly reason: string };

/**
 * The upload contract: `incoming/<provider>/<file>`, or `incoming/<file>` for the default provider.
 * Deeper paths keep the provider from the first folder and the name from the last segment.
 */
export function routeUploadKey(key: string, defaultProvider: ProviderName): UploadRoute {
  if (!key.startsWith(INCOMING_PREFIX)) return { kind: 'ignore', reason: `outside ${INCOMING_PREFIX}` };
  if (key.endsWith('/')) return { kind: 'ignore', reason: 'folder placeholder' };
  const segments = key.slice(INCOMING_PREFIX.length).split('/');
  const fileName = segments[segments.length - 1] ?? '';
  if (segments.length === 1) return { kind: 'upload', provider: defaultProvider, fileName };
  const folder = segments[0] ?? '';
  if (isProviderName(folder)) return { kind: 'upload', provider: folder, fileName };
  return { kind: 'unknown-provider', folder, fileName };
}

/** S3 allows such keys, but a URL resolves "." and ".." segments away: the object cannot be read back. */
export function hasUnreadableKey(key: string): boolean {
  return key.split('/').some((segment) => segment === '.' || segment === '..');
}

/** The display name a file gets when no `display-name` metadata is set: its name without extension. */
export function displayNameFromFileName(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/**
 * Object metadata values are ASCII on the wire: `display-name` may carry percent-encoded UTF-8, and
 * some clients send RFC 2047 encoded words (`=?UTF-8?B?…?=`). Anything that does not decode is kept.
 */
export function decodeMetadataValue(raw: string): string {
  const encodedWord = /^=\?utf-8\?([bq])\?(.*)\?=$/i.exec(raw.trim());
  if (encodedWord) {
    const [, encoding, text = ''] = encodedWord;
    if (encoding?.toLowerCase() === 'b') return Buffer.from(text, 'base64').toString('utf8');
    return decodeQuotedPrintableWord(text);
  }
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function decodeQuotedPrintableWord(text: string): string {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (character === '_') bytes.push(0x20);
    else if (character === '=' && /^[0-9a-f]{2}$/i.test(text.slice(index + 1, index + 3))) {
      bytes.push(Number.parseInt(text.slice(index + 1, index + 3), 16));
      index += 2;
    } else bytes.push(character?.charCodeAt(0) ?? 0);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The object metadata names (without `x-amz-meta-`) of an upload's options, in the order the presigned form
 * writes them (functions/api/uploads.ts); the README's upload contract documents them.
 */
export const UPLOAD_METADATA_NAMES = {
  displayName: 'display-name',
  language: 'language',
  model: 'model',
  accent: 'accent',
  description: 'description',
  tags: 'tags',
  trim: 'trim',
  consentId: 'consent-id',
} as const satisfies Record<keyof UploadOptions, string>;

/** The upload's options from object metadata (keys arrive lower-cased, without `x-amz-meta-`). */
export function readUploadOptions(metadata: Readonly<Record<string, string>>): UploadOptions {
  const read = (name: string): string | undefined => {
    const value = metadata[name];
    return value === undefined ? undefined : decodeMetadataValue(value).trim() || undefined;
  };
  return Object.fromEntries(
    Object.entries(UPLOAD_METADATA_NAMES).map(([option, name]) => [option, read(name)]),
  ) as UploadOptions;
}
