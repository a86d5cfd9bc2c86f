import { randomUUID } from 'node:crypto';

export type MultipartPart =
  | { readonly name: string; readonly value: string }
  | {
      readonly name: string;
      readonly filename: string;
      readonly contentType: string;
      readonly data: Uint8Array;
    };

/** Slices of the file handed to the socket at a time: views into the upload, never copies of it. */
const CHUNK_BYTES = 64 * 1024;

/**
 * A multipart/form-data body sent as a stream of views into the caller's bytes. FormData with a Blob
 * copies the upload and fetch copies it again (about 5 × a 25 MB sample in memory); this keeps the peak
 * near the upload itself. The exact length is known, so the request carries a Content-Length (no
 * chunked encoding). `stream()` starts over, so a retried request can send it again.
 */
export class MultipartBody {
  readonly contentType: string;
  readonly length: number;
  private readonly pieces: readonly Uint8Array[];

  constructor(parts: readonly MultipartPart[]) {
    const boundary = `voicedrop-${randomUUID()}`;
    const encoder = new TextEncoder();
    const pieces: Uint8Array[] = [];
    for (const part of parts) {
      const name = escapeQuoted(part.name);
      if ('data' in part) {
        pieces.push(
          encoder.encode(
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${escapeQuoted(part.filename)}"\r\nContent-Type: ${part.contentType}\r\n\r\n`,
          ),
        );
        for (let offset = 0; offset < part.data.length; offset += CHUNK_BYTES) {
          pieces.push(part.data.subarray(offset, offset + CHUNK_BYTES));
        }
        pieces.push(encoder.encode('\r\n'));
      } else {
        pieces.push(
          encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`),
        );
        pieces.push(encoder.encode(part.value), encoder.encode('\r\n'));
      }
    }
    pieces.push(encoder.encode(`--${boundary}--\r\n`));
    this.pieces = pieces;
    this.length = pieces.reduce((total, piece) => total + piece.length, 0);
    this.contentType = `multipart/form-data; boundary=${boundary}`;
  }

  stream(): ReadableStream<Uint8Array> {
    let index = 0;
    return new ReadableStream({
      pull: (controller) => {
        const piece = this.pieces[index];
        index += 1;
        if (piece) controller.enqueue(piece);
        else controller.close();
      },
    });
  }
}

/** Quotes in form-data names and file names are percent-encoded, as browsers do. */
function escapeQuoted(text: string): string {
  return text.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
