import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import busboy from 'busboy';

/**
 * Request bodies as the simulators read them: `multipart/form-data` through busboy (a parser of its own,
 * not the clients' encoder, so an encoding mistake shows up as a missing or wrong field), anything else as
 * JSON.
 */

export interface UploadedFile {
  readonly fieldName: string;
  readonly filename: string;
  readonly mimeType: string;
  /** At most the vendor's upload limit; see `truncated`. */
  readonly bytes: Uint8Array;
  /** True when the upload was larger than the vendor's limit. */
  readonly truncated: boolean;
}

export interface ParsedBody {
  readonly multipart: boolean;
  readonly fields: Readonly<Record<string, string>>;
  readonly files: readonly UploadedFile[];
  /** Parsed JSON body; undefined when there was none or it was not JSON (see `jsonInvalid`). */
  readonly json: unknown;
  readonly jsonInvalid: boolean;
}

/** Multipart files are cut at `maxFileBytes` and flagged `truncated`. */
export function readBody(request: IncomingMessage, maxFileBytes: number): Promise<ParsedBody> {
  const contentType = request.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(contentType)) {
    try {
      return readMultipart(request, maxFileBytes);
    } catch {
      // A missing boundary is the client's mistake: answer as if no fields came.
    }
  }
  return readJsonBody(request);
}

function readJsonBody(request: IncomingMessage): Promise<ParsedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', reject);
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      let jsonInvalid = false;
      if (text.trim() !== '') {
        try {
          json = JSON.parse(text);
        } catch {
          jsonInvalid = true;
        }
      }
      resolve({ multipart: false, fields: {}, files: [], json, jsonInvalid });
    });
  });
}

function readMultipart(request: IncomingMessage, maxFileBytes: number): Promise<ParsedBody> {
  const parser = busboy({
    headers: request.headers,
    limits: { fileSize: maxFileBytes, files: 4, fields: 64 },
  });
  const fields: Record<string, string> = {};
  const files: UploadedFile[] = [];
  return new Promise((resolve, reject) => {
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (fieldName, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        files.push({
          fieldName,
          filename: info.filename ?? '',
          mimeType: info.mimeType,
          bytes: new Uint8Array(Buffer.concat(chunks)),
          truncated: (stream as { truncated?: boolean }).truncated === true,
        });
      });
    });
    parser.on('close', () =>
      resolve({ multipart: true, fields, files, json: undefined, jsonInvalid: false }),
    );
    parser.on('error', reject);
    request.on('error', reject);
    request.pipe(parser);
  });
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
