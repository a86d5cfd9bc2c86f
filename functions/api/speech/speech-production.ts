/**
 * Turns the pieces of one speech request into one audio stream, in order, as soon as each exists.
 * Cached pieces are read from the bucket; the others are synthesized through the provider's streaming
 * route within its concurrency, a few pieces ahead of the one being sent, and written to the cache once
 * complete. The first piece's audio goes out the moment its first bytes arrive.
 */

import { concatBytes } from '../../shared/audio/bytes';
import { errorMessage } from '../../shared/errors';
import type { Log } from '../../shared/logger';
import type { SpeechStream } from '../../shared/providers/types';
import { id3Tag, type SpeechMarking, wavInfoChunk } from './ai-marking';
import { AudioJoinError, wavHeader } from './join-audio';
import { type PieceLayout, PieceReader } from './piece-reader';
import { Semaphore } from './semaphore';
import type { CachedPiece, SynthesisCache } from './synthesis-cache';

export interface PlannedPiece {
  readonly text: string;
  readonly cacheKey: string;
  /**
   * What the cache holds for it (undefined: nothing, or the cache is bypassed), with the bytes when the
   * lookup fetched them too. Lookups run while the first piece is made, not before.
   */
  readonly lookup: Promise<(CachedPiece & { readonly bytes?: Uint8Array }) | undefined>;
}

export interface ProductionOptions {
  readonly pieces: readonly PlannedPiece[];
  readonly format: 'wav' | 'mp3';
  readonly contentType: 'audio/wav' | 'audio/mpeg';
  readonly synthesize: (text: string, signal: AbortSignal) => Promise<SpeechStream>;
  /** Provider requests in flight at most. */
  readonly concurrency: number;
  /** Undefined: the cache is bypassed (nothing read, nothing written). */
  readonly cache?: SynthesisCache;
  /** Aborted when the caller goes away or time runs out: everything stops. */
  readonly signal: AbortSignal;
  readonly logger: Log;
  /** What every file says about itself: AI-generated, by which voice, when (ai-marking.ts). */
  readonly marking: SpeechMarking;
  /**
   * Runs once, when the stream has ended (completely or not), after the body has closed: the caller has
   * every byte while this runs (usage, metrics). `SpeechProduction.finished` says when it is done.
   */
  readonly onFinished: (outcome: ProductionOutcome) => Promise<void>;
}

export interface ProductionOutcome {
  readonly completed: boolean;
  readonly error?: unknown;
  /** Pieces the provider made (a cached piece that vanished counts here too), and their characters. */
  readonly synthesizedPieces: number;
  readonly providerCharacters: number;
  readonly cachedPieces: number;
  /** Bytes of the body sent. */
  readonly bytes: number;
}

export interface SpeechProduction {
  readonly body: ReadableStream<Uint8Array>;
  /** Known when every piece comes from the cache: the exact size of the body. */
  readonly contentLength?: number;
  /** Pieces the cache holds (as looked up before the first byte). */
  readonly cachedPieces: number;
  /**
   * Resolves (never rejects) once the body has ended and `onFinished` has run: what the handler must
   * still wait for after the response has gone (a Lambda function is frozen once its handler returns).
   */
  readonly finished: Promise<void>;
}

/** Pieces a task may run ahead of the one being sent, beyond the provider's concurrency. */
const LOOKAHEAD = 2;

/**
 * Starts producing; resolves once the first piece's audio has begun (its header has arrived), so that a
 * failure before any audio — the provider refusing the first piece, say — is still an HTTP error.
 */
export async function produceSpeech(options: ProductionOptions): Promise<SpeechProduction> {
  const production = new Production(options);
  const first = await production.start();
  return {
    body: production.body(first),
    contentLength: production.exactLength(first),
    cachedPieces: production.found.filter((found) => found !== undefined).length,
    finished: production.finished,
  };
}

class Production {
  private readonly buffers: PieceBuffer[];
  private readonly stop = new AbortController();
  private readonly slots: Semaphore;
  private readonly cacheWrites: Promise<void>[] = [];
  /** Pieces made (or being made) in this request, by cache key. */
  private readonly made = new Map<string, Promise<MadePiece>>();
  private started = 0;
  private current = 0;
  private synthesizedPieces = 0;
  private providerCharacters = 0;
  private cachedPieces = 0;
  private bytes = 0;
  private readonly wavMarking: Uint8Array;
  private readonly mp3Marking: Uint8Array;

  constructor(private readonly options: ProductionOptions) {
    this.buffers = options.pieces.map(() => new PieceBuffer());
    this.wavMarking = wavInfoChunk(options.marking);
    this.mp3Marking = id3Tag(options.marking);
    this.slots = new Semaphore(Math.max(1, options.concurrency));
    const abort = () => this.stop.abort(options.signal.reason);
    if (options.signal.aborted) abort();
    else options.signal.addEventListener('abort', abort, { once: true });
  }

  /** What every lookup found, once `start` has resolved. */
  found: (CachedPiece | undefined)[] = [];

  /** The first piece's layout; throws what stopped it from starting. */
  async start(): Promise<PieceLayout> {
    this.pump();
    const first = this.buffers[0];
    if (!first) throw new AudioJoinError('No speech pieces to produce');
    try {
      const [layout, found] = await Promise.all([
        first.layoutReady,
        Promise.all(this.options.pieces.map((piece) => piece.lookup)),
      ]);
      this.found = found;
      return layout;
    } catch (error) {
      this.stop.abort(error);
      await this.finish({ completed: false, error });
      throw error;
    }
  }

  exactLength(layout: PieceLayout): number | undefined {
    const total = this.cachedTotal();
    if (total === undefined) return undefined;
    return this.head(layout, total).length + total + (layout.format === 'wav' ? total % 2 : 0);
  }

  /**
   * What the response starts with before the first piece's payload: the WAV header with the AI-generated
   * LIST/INFO chunk, or the MP3's ID3v2 tag saying the same. A few hundred bytes, sent at once.
   */
  private head(layout: PieceLayout, exact: number | undefined): Uint8Array {
    if (layout.format === 'wav') return wavHeader(layout.formatBody, exact, this.wavMarking);
    return this.mp3Marking;
  }

  body(layout: PieceLayout): ReadableStream<Uint8Array> {
    const iterator = this.output(layout);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
        // The body has ended: the outcome is recorded after it, not before.
        if (this.outcome) void this.finish(this.outcome);
      },
      cancel: async (reason) => {
        const error = reason ?? new Error('the client went away');
        this.stop.abort(error);
        await iterator.return(undefined);
        // A body cancelled before its first read never ran the generator.
        void this.finish(this.outcome ?? { completed: false, error });
      },
    });
  }

  /** How the output ended, once it has. */
  private outcome: Pick<ProductionOutcome, 'completed' | 'error'> | undefined;

  private async *output(layout: PieceLayout): AsyncGenerator<Uint8Array, void, undefined> {
    let outcome: Pick<ProductionOutcome, 'completed' | 'error'> = { completed: false };
    try {
      const exact = this.cachedTotal();
      const head = this.head(layout, exact);
      yield this.count(head);
      for (let index = 0; index < this.buffers.length; index++) {
        this.current = index;
        this.pump();
        const buffer = this.buffers[index] as PieceBuffer;
        const pieceLayout = await buffer.layoutReady;
        if (pieceLayout.description !== layout.description || pieceLayout.format !== layout.format) {
          throw new AudioJoinError(
            `Cannot join speech of different formats: piece 1 is ${layout.description}, piece ${index + 1} is ${pieceLayout.description}`,
          );
        }
        for await (const part of buffer) yield this.count(part);
      }
      if (exact !== undefined) {
        const payload = this.bytes - head.length;
        // A cached piece that expired mid-request was synthesized again and may differ in length.
        if (payload !== exact)
          throw new AudioJoinError(`Cached speech changed while it was sent (${payload} of ${exact} bytes)`);
        if (layout.format === 'wav' && exact % 2 === 1) yield this.count(new Uint8Array(1));
      }
      outcome = { completed: true };
    } catch (error) {
      outcome = { completed: false, error };
      throw error;
    } finally {
      if (!outcome.completed) this.stop.abort(outcome.error ?? new Error('the client went away'));
      // Cached pieces are written before the body ends, so a request right after this one finds them.
      await Promise.all(this.cacheWrites);
      this.outcome = outcome;
    }
  }

  private count(part: Uint8Array): Uint8Array {
    this.bytes += part.length;
    return part;
  }

  private cachedTotal(): number | undefined {
    let total = 0;
    for (const found of this.found) {
      if (!found) return undefined;
      total += found.payloadBytes;
    }
    return total;
  }

  /** Starts the pieces that may start: in order, up to the lookahead beyond the one being sent. */
  private pump(): void {
    const limit = this.current + this.options.concurrency + LOOKAHEAD;
    while (this.started < this.buffers.length && this.started <= limit && !this.stop.signal.aborted) {
      const index = this.started;
      this.started += 1;
      const buffer = this.buffers[index] as PieceBuffer;
      this.produce(index, buffer).catch((error: unknown) => buffer.fail(error));
    }
  }

  private async produce(index: number, buffer: PieceBuffer): Promise<void> {
    const piece = this.options.pieces[index] as PlannedPiece;
    const label = `speech piece ${index + 1}`;
    // The same piece twice in one text (a refrain) is made once and played again.
    const earlier = this.made.get(piece.cacheKey);
    if (earlier) {
      const made = await earlier;
      buffer.setLayout(made.layout);
      for (const part of made.parts) buffer.push(part);
      buffer.end();
      return;
    }
    const made = this.make(index, label, buffer);
    this.made.set(piece.cacheKey, made);
    await made;
  }

  /** One piece from the cache or the provider, into `buffer`; resolves with what it was. */
  private async make(index: number, label: string, buffer: PieceBuffer): Promise<MadePiece> {
    const piece = this.options.pieces[index] as PlannedPiece;
    // In order: a later piece never takes a provider slot before an earlier one that needs it.
    const lookups = this.options.pieces.slice(0, index + 1).map((earlier) => earlier.lookup);
    const cached = (await Promise.all(lookups))[index];
    if (cached && this.options.cache) {
      const bytes = cached.bytes ?? (await this.options.cache.read(cached.key, this.stop.signal));
      if (bytes) {
        const reader = new PieceReader(this.options.format, label);
        const payload = reader.push(bytes);
        reader.end();
        buffer.setLayout(reader.layout as PieceLayout);
        for (const part of payload) buffer.push(part);
        buffer.end();
        this.cachedPieces += 1;
        return { layout: reader.layout as PieceLayout, parts: payload };
      }
      this.options.logger.info('cached speech piece expired before it was read; synthesizing it', { label });
    }
    await this.slots.acquire(this.stop.signal);
    try {
      const stream = await this.options.synthesize(piece.text, this.stop.signal);
      const reader = new PieceReader(this.options.format, label);
      const payload: Uint8Array[] = [];
      for await (const chunk of stream.chunks) {
        for (const part of reader.push(chunk)) {
          if (reader.layout) buffer.setLayout(reader.layout);
          buffer.push(part);
          payload.push(part);
        }
      }
      reader.end();
      buffer.setLayout(reader.layout as PieceLayout);
      buffer.end();
      this.synthesizedPieces += 1;
      this.providerCharacters += [...piece.text].length;
      if (this.options.cache) this.cacheWrites.push(this.store(piece, reader, payload));
      return { layout: reader.layout as PieceLayout, parts: payload };
    } finally {
      this.slots.release();
    }
  }

  /** Keeps a complete piece as a file of its own (canonical header, payload only). Best effort. */
  private async store(piece: PlannedPiece, reader: PieceReader, payload: Uint8Array[]): Promise<void> {
    const layout = reader.layout;
    if (!layout || !this.options.cache) return;
    // Stored files are marked too (with the time the piece was made); readers skip the marking.
    const file =
      layout.format === 'wav'
        ? concatBytes([
            wavHeader(layout.formatBody, reader.payloadBytes, this.wavMarking),
            ...payload,
            new Uint8Array(reader.payloadBytes % 2),
          ])
        : concatBytes([this.mp3Marking, ...payload]);
    try {
      await this.options.cache.write(piece.cacheKey, file, reader.payloadBytes, this.options.contentType);
    } catch (error) {
      this.options.logger.warn('could not cache a speech piece', {
        error: errorMessage(error),
      });
    }
  }

  private settle: () => void = () => undefined;
  readonly finished = new Promise<void>((resolve) => {
    this.settle = resolve;
  });
  private finishing: Promise<void> | undefined;

  /** Runs onFinished once; later calls wait for the first. */
  private finish(outcome: Pick<ProductionOutcome, 'completed' | 'error'>): Promise<void> {
    this.finishing ??= (async () => {
      try {
        await Promise.all(this.cacheWrites);
        await this.options.onFinished({
          ...outcome,
          synthesizedPieces: this.synthesizedPieces,
          providerCharacters: this.providerCharacters,
          cachedPieces: this.cachedPieces,
          bytes: this.bytes,
        });
      } catch (error) {
        this.options.logger.error('recording a speech request failed', {
          error: errorMessage(error),
        });
      } finally {
        this.settle();
      }
    })();
    return this.finishing;
  }
}

interface MadePiece {
  readonly layout: PieceLayout;
  readonly parts: readonly Uint8Array[];
}

/** One piece's payload as it arrives, read once, in order, by the output. */
class PieceBuffer implements AsyncIterable<Uint8Array> {
  private readonly parts: Uint8Array[] = [];
  private ended = false;
  private error: unknown;
  private failed = false;
  private wake: (() => void) | undefined;
  private resolveLayout!: (layout: PieceLayout) => void;
  private rejectLayout!: (error: unknown) => void;
  readonly layoutReady = new Promise<PieceLayout>((resolve, reject) => {
    this.resolveLayout = resolve;
    this.rejectLayout = reject;
  });

  constructor() {
    // Read only when the output reaches this piece; a failure before then must not go unhandled.
    this.layoutReady.catch(() => undefined);
  }

  setLayout(layout: PieceLayout): void {
    this.resolveLayout(layout);
  }

  push(part: Uint8Array): void {
    this.parts.push(part);
    this.signal();
  }

  end(): void {
    this.ended = true;
    this.signal();
  }

  fail(error: unknown): void {
    this.failed = true;
    this.error = error;
    this.rejectLayout(error);
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const part = this.parts.shift();
      if (part) {
        yield part;
        continue;
      }
      if (this.failed) throw this.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
