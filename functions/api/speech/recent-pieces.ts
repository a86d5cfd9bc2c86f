/**
 * The synthesis cache's first tier: the pieces a warm function instance has read or written lately, kept
 * in its memory so that a repeated request makes no S3 request at all. Bounded by bytes (least recently
 * used go first) and by age (an entry is forgotten after `ttlMs`, so nothing outlives its S3 object by
 * more than that). Safe to share between requests: entries are immutable (the key is a hash of
 * everything the audio depends on) and a voice's record is checked before any of its pieces is looked
 * up, so a deleted voice is never spoken from here.
 */
export interface RecentPiece {
  /** The cached file (header, payload) as stored in S3: read, never changed. */
  readonly bytes: Uint8Array;
  readonly payloadBytes: number;
}

interface Held extends RecentPiece {
  readonly at: number;
}

export class RecentPieces {
  private readonly held = new Map<string, Held>();
  private bytes = 0;

  constructor(
    private readonly options: {
      readonly maxBytes: number;
      readonly ttlMs: number;
      readonly now?: () => number;
    },
  ) {}

  get(key: string): RecentPiece | undefined {
    const held = this.held.get(key);
    if (!held) return undefined;
    if (this.now() - held.at > this.options.ttlMs) {
      this.forget(key, held);
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.held.delete(key);
    this.held.set(key, held);
    return held;
  }

  put(key: string, piece: RecentPiece): void {
    const previous = this.held.get(key);
    if (previous) this.forget(key, previous);
    if (piece.bytes.length > this.options.maxBytes / 4) return;
    this.held.set(key, { ...piece, at: this.now() });
    this.bytes += piece.bytes.length;
    for (const [oldest, held] of this.held) {
      if (this.bytes <= this.options.maxBytes) break;
      this.forget(oldest, held);
    }
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }

  private forget(key: string, held: Held): void {
    this.held.delete(key);
    this.bytes -= held.bytes.length;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** What the speech function keeps: 32 MiB (of its 1,024 MB) for at most 15 minutes. */
export const RECENT_PIECES = { maxBytes: 32 * 1024 * 1024, ttlMs: 15 * 60_000 } as const;
