/**
 * Splits speech text into provider-sized requests. Each break costs prosody (the voice resets its
 * intonation at every request), so breaks go where a speaker pauses anyway: after a sentence first, then
 * between words, and inside a word only when one word alone is longer than a request may be.
 */

// Latin-script terminators end a sentence only before whitespace, so "3.14", "e.g.x" and URLs stay whole.
const SPACED_TERMINATORS = '.!?…';
// CJK and Devanagari terminators need no space after them: those scripts do not put one there.
const UNSPACED_TERMINATORS = '。！？｡।॥';
// Closing quotes and brackets belong to the sentence they close.
const CLOSERS = '"\'”’»)\\]}」』）】';
const SENTENCE_END = new RegExp(
  `[${SPACED_TERMINATORS}]+[${CLOSERS}]*(?=\\s|$)|[${UNSPACED_TERMINATORS}]+[${CLOSERS}]*|[\\n\\r\\u2028\\u2029]`,
  'gu',
);
const WORD = /\S+/gu;
const SPACE = /\s/u;
// User-perceived characters, so a hard cut never separates a base letter from its accents or an emoji
// from its modifiers; Lambda's Node.js runtime ships full ICU.
const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** A run of the text, [start, end) in UTF-16 units, that starts and ends with a non-space character. */
interface Span {
  readonly start: number;
  readonly end: number;
}

/** A span with its length in Unicode code points. */
interface Chunk extends Span {
  readonly length: number;
}

type Level = 'sentence' | 'word' | 'grapheme' | 'codePoint';

export interface SplitOptions {
  /**
   * False: every sentence starts a new chunk (a sentence too long for one is still split finer), so a
   * chunk's text depends on its own sentences only. An edit then changes the chunks it touches and no
   * other: what a synthesis cache needs. Default true: sentences are packed greedily.
   */
  readonly pack?: boolean;
  /** Without packing, a chunk shorter than this many code points takes the next sentence too, if it fits. */
  readonly joinBelow?: number;
}

/**
 * The pieces speech is synthesized and cached in: one sentence each, a sentence under 40 characters
 * joined with the one after it ("Yes." is not worth a request of its own), a sentence longer than a
 * provider request split at words. Changing a sentence changes its own piece only.
 */
export function speechPieces(text: string, maxCharacters: number): string[] {
  return splitText(text, maxCharacters, { pack: false, joinBelow: 40 });
}

/**
 * Ordered chunks of at most `maxCharacters` Unicode code points whose concatenation (with any whitespace
 * between them) holds every speakable character of `text` in order. Whole sentences are packed greedily;
 * a sentence too long for one chunk starts a new chunk and is packed word by word, and a word too long
 * for one chunk is cut between graphemes. Whitespace inside a chunk is kept as written; whitespace at
 * chunk edges is dropped. Every chunk has something to speak (see `isSpeakable`): a piece with nothing
 * to speak (a run of emoji or punctuation) joins the chunk before it, else the one after it, when the
 * result fits; otherwise it is left out, as it carries no speech. Text with nothing to speak gives no
 * chunks.
 */
export function splitText(text: string, maxCharacters: number, options: SplitOptions = {}): string[] {
  if (!Number.isSafeInteger(maxCharacters) || maxCharacters < 1) {
    throw new RangeError(`maxCharacters must be a positive integer, got ${maxCharacters}`);
  }
  const whole = trimSpan(text, 0, text.length);
  if (!whole || !isSpeakable(text.slice(whole.start, whole.end))) return [];
  if (options.pack !== false && codePointLength(text, whole.start, whole.end) <= maxCharacters)
    return [text.slice(whole.start, whole.end)];

  const chunks: Chunk[] = [];
  // The chunk being filled.
  let current: Chunk | undefined;

  const flush = () => {
    if (current) chunks.push(current);
    current = undefined;
  };

  const add = (span: Span, level: Level) => {
    // Without packing a sentence starts its own chunk, unless the one before is short enough to join it.
    if (
      current &&
      level === 'sentence' &&
      options.pack === false &&
      current.length >= (options.joinBelow ?? 0)
    ) {
      flush();
    }
    if (current) {
      const extended = current.length + codePointLength(text, current.end, span.end);
      if (extended <= maxCharacters) {
        current = { start: current.start, end: span.end, length: extended };
        return;
      }
    }
    const length = codePointLength(text, span.start, span.end);
    flush();
    if (length <= maxCharacters) {
      current = { ...span, length };
      return;
    }
    // Too long for any chunk: it starts a fresh chunk (the break before it stays at its own boundary) and
    // its last piece stays open, so what follows may still join it.
    const finer = FINER[level];
    for (const piece of pieces(text, span, finer)) add(piece, finer);
  };

  for (const sentence of pieces(text, whole, 'sentence')) add(sentence, 'sentence');
  flush();
  return keepSpeakable(text, chunks, maxCharacters).map((chunk) => text.slice(chunk.start, chunk.end));
}

// A letter or a digit of any script: what a speech provider can say (Typecast refuses text without one).
const SPEAKABLE = /[\p{L}\p{N}]/u;

/**
 * Whether `text` has anything a voice can say: a letter or a digit in any script. Punctuation, symbols,
 * emoji, control characters and whitespace alone are silent, and providers refuse them.
 */
export function isSpeakable(text: string): boolean {
  return SPEAKABLE.test(text);
}

/**
 * `chunks` with every chunk that has nothing to speak merged into the chunk before it, else into the one
 * after it, when the merged chunk fits in `maxCharacters`; one that fits with neither is dropped. Merged
 * chunks stay contiguous runs of the text, so order and the whitespace inside them are kept.
 */
function keepSpeakable(text: string, chunks: readonly Chunk[], maxCharacters: number): Chunk[] {
  const kept: Chunk[] = [];
  // Silent chunks that fit in no chunk before them, waiting to join the next speakable one. While there
  // are none, the last kept chunk is the one right before the chunk at hand.
  let pending: Chunk | undefined;
  const join = (first: Chunk, second: Chunk): Chunk | undefined => {
    const length = first.length + codePointLength(text, first.end, second.end);
    return length <= maxCharacters ? { start: first.start, end: second.end, length } : undefined;
  };

  for (const chunk of chunks) {
    if (isSpeakable(text.slice(chunk.start, chunk.end))) {
      kept.push((pending && join(pending, chunk)) ?? chunk);
      pending = undefined;
      continue;
    }
    const last = kept.at(-1);
    const intoLast = !pending && last ? join(last, chunk) : undefined;
    if (intoLast) {
      kept[kept.length - 1] = intoLast;
      continue;
    }
    // When the silent run grows longer than a chunk, its older part is dropped: no chunk could take it.
    pending = (pending && join(pending, chunk)) ?? chunk;
  }
  return kept;
}

const FINER: Readonly<Record<Level, Level>> = {
  sentence: 'word',
  word: 'grapheme',
  // A single grapheme longer than a chunk (a long emoji sequence against a tiny limit) is the last resort.
  grapheme: 'codePoint',
  codePoint: 'codePoint',
};

/** The trimmed, non-empty spans of `span` at `level`, in order. */
function* pieces(text: string, span: Span, level: Level): Generator<Span> {
  const slice = text.slice(span.start, span.end);
  if (level === 'sentence') {
    let start = 0;
    for (const match of slice.matchAll(SENTENCE_END)) {
      const end = match.index + match[0].length;
      const sentence = trimSpan(text, span.start + start, span.start + end);
      if (sentence) yield sentence;
      start = end;
    }
    const rest = trimSpan(text, span.start + start, span.end);
    if (rest) yield rest;
  } else if (level === 'word') {
    for (const match of slice.matchAll(WORD)) {
      yield { start: span.start + match.index, end: span.start + match.index + match[0].length };
    }
  } else if (level === 'grapheme') {
    for (const { index, segment } of GRAPHEMES.segment(slice)) {
      yield { start: span.start + index, end: span.start + index + segment.length };
    }
  } else {
    let index = 0;
    for (const codePoint of slice) {
      yield { start: span.start + index, end: span.start + index + codePoint.length };
      index += codePoint.length;
    }
  }
}

/** [start, end) without whitespace at either edge, or undefined when nothing else is left. */
function trimSpan(text: string, start: number, end: number): Span | undefined {
  let from = start;
  let to = end;
  while (from < to && isSpace(text, from)) from++;
  while (to > from && isSpace(text, to - 1)) to--;
  return from < to ? { start: from, end: to } : undefined;
}

// Every whitespace character of JavaScript's \s lies in the Basic Multilingual Plane, so one UTF-16 unit
// decides it.
function isSpace(text: string, index: number): boolean {
  return SPACE.test(text.charAt(index));
}

/** Unicode code points in [start, end): UTF-16 units, less the second half of each surrogate pair. */
function codePointLength(text: string, start: number, end: number): number {
  let length = 0;
  for (let index = start; index < end; index++) {
    const unit = text.charCodeAt(index);
    const previous = index > start ? text.charCodeAt(index - 1) : 0;
    const isTrailingHalf = unit >= 0xdc00 && unit <= 0xdfff && previous >= 0xd800 && previous <= 0xdbff;
    if (!isTrailingHalf) length++;
  }
  return length;
}
