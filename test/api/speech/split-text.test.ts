import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSpeakable, splitText } from '../../../functions/api/speech/split-text';
import { PROVIDER_LIMITS } from '../../../functions/shared/providers/limits';
import { seededRandom } from '../../audio/helpers';

const codePoints = (text: string) => [...text].length;
const nonSpace = (text: string) => text.replace(/\s+/gu, '');
/** The letters and digits of `text`, in order: what a voice says. */
const speakable = (text: string) => text.replace(/[^\p{L}\p{N}]+/gu, '');

/** Whether `part` is `whole` with some characters left out (a subsequence, by code points). */
function isSubsequence(part: string, whole: string): boolean {
  const remaining = [...whole];
  let index = 0;
  for (const character of part) {
    while (index < remaining.length && remaining[index] !== character) index++;
    if (index === remaining.length) return false;
    index++;
  }
  return true;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Plain words exactly `length` code points long, without sentence breaks, ending in a letter. */
function wordsOf(length: number, seed: number): string {
  const random = seededRandom(seed);
  const vocabulary = ['the', 'voice', 'cloned', 'speaks', 'quietly', 'again', 'today', 'river', 'north'];
  let text = '';
  while (text.length < length) text += `${pick(random, vocabulary)} `;
  text = text.slice(0, length);
  return text.endsWith(' ') ? `${text.slice(0, -1)}s` : text;
}

/**
 * What every split must guarantee, whatever the text: every chunk has something to speak and fits, every
 * letter and digit is kept in order, and only characters with nothing to speak may be left out.
 */
function expectWellFormedChunks(text: string, chunks: readonly string[], maxCharacters: number): void {
  for (const chunk of chunks) {
    expect(chunk.length).toBeGreaterThan(0);
    expect(chunk).toBe(chunk.trim());
    expect(codePoints(chunk)).toBeLessThanOrEqual(maxCharacters);
    expect(chunk.isWellFormed()).toBe(true);
    expect(isSpeakable(chunk)).toBe(true);
  }
  expect(speakable(chunks.join(' '))).toBe(speakable(text));
  expect(isSubsequence(nonSpace(chunks.join('')), nonSpace(text))).toBe(true);
  // Each chunk is a piece of the text as written, and the pieces come in order.
  let cursor = 0;
  for (const chunk of chunks) {
    const found = text.indexOf(chunk, cursor);
    expect(found).toBeGreaterThanOrEqual(cursor);
    cursor = found + chunk.length;
  }
}

describe('Function: splitText', () => {
  describe('short text', () => {
    it('returns text that fits as one trimmed chunk', () => {
      expect(splitText('  Hello there.\n', 12)).toEqual(['Hello there.']);
    });

    it('returns no chunks for blank text', () => {
      expect(splitText(' \n\t ', 10)).toEqual([]);
      expect(splitText('', 10)).toEqual([]);
    });

    it('returns no chunks for text with nothing to speak, short or long', () => {
      for (const silent of ['\u0000', '...', '🎉🎉🎉', ' ?! \n — ', '👨‍👩‍👧 🇯🇵', '\u0301\u0301', '$%&*']) {
        expect(splitText(silent, 250)).toEqual([]);
        expect(splitText(silent.repeat(100), 10)).toEqual([]);
      }
    });

    it('rejects a limit that is not a positive integer', () => {
      expect(() => splitText('text', 0)).toThrow(RangeError);
      expect(() => splitText('text', 2.5)).toThrow(/positive integer/);
      expect(() => splitText('text', Number.NaN)).toThrow(RangeError);
    });
  });

  describe('sentence boundaries', () => {
    it('packs as many whole sentences into a chunk as fit', () => {
      expect(splitText('One. Two. Three. Four.', 9)).toEqual(['One. Two.', 'Three.', 'Four.']);
      expect(splitText('One. Two. Three. Four.', 16)).toEqual(['One. Two. Three.', 'Four.']);
    });

    it('fills a chunk up to exactly the limit', () => {
      expect(splitText('Abcd. Efgh. Ijkl.', 11)).toEqual(['Abcd. Efgh.', 'Ijkl.']);
      expect(splitText('Abcd. Efgh. Ijkl.', 10)).toEqual(['Abcd.', 'Efgh.', 'Ijkl.']);
    });

    it('ends sentences at question marks, exclamation marks, ellipses and closing quotes', () => {
      expect(splitText('Why not? Stop! Well… "Fine." Done', 8)).toEqual([
        'Why not?',
        'Stop!',
        'Well…',
        '"Fine."',
        'Done',
      ]);
    });

    it('does not end a sentence at a dot inside a number or an address', () => {
      expect(splitText('Pi is 3.14159 and example.com works', 20)).toEqual([
        'Pi is 3.14159 and',
        'example.com works',
      ]);
    });

    it('ends CJK sentences at 。！？ without a following space', () => {
      expect(splitText('今日は晴れです。明日は雨！本当？はい', 8)).toEqual([
        '今日は晴れです。',
        '明日は雨！本当？',
        'はい',
      ]);
    });

    it('ends Hindi sentences at the danda', () => {
      expect(splitText('मैं ठीक हूँ। आप कैसे हैं?', 14)).toEqual(['मैं ठीक हूँ।', 'आप कैसे हैं?']);
    });

    it('treats a line break as a sentence boundary', () => {
      // Packing by words alone would give "ab cd\nef" and "gh ij".
      expect(splitText('ab cd\nef gh ij', 8)).toEqual(['ab cd', 'ef gh ij']);
    });

    it('keeps whitespace inside a chunk as written', () => {
      expect(splitText('One.\nTwo.  Three four five six.', 10)).toEqual([
        'One.\nTwo.',
        'Three four',
        'five six.',
      ]);
    });
  });

  describe('word boundaries', () => {
    it('starts a sentence too long for one chunk in a fresh chunk and splits it between words', () => {
      // Greedy packing by words would have put "alpha" after "Hi." and broken the long sentence twice.
      expect(splitText('Hi. alpha beta gamma delta.', 12)).toEqual(['Hi.', 'alpha beta', 'gamma delta.']);
    });

    it('lets the next sentence join the tail of a split sentence', () => {
      expect(splitText('alpha beta gamma. Yo.', 11)).toEqual(['alpha beta', 'gamma. Yo.']);
    });

    it('splits a long text without any punctuation between words only', () => {
      const words = Array.from({ length: 60 }, (_, index) => `word${index}`);
      const chunks = splitText(words.join(' '), 30);
      expect(chunks.flatMap((chunk) => chunk.split(' '))).toEqual(words);
      expect(chunks.every((chunk) => codePoints(chunk) <= 30)).toBe(true);
    });
  });

  describe('hard cuts', () => {
    it('cuts a word longer than a chunk into pieces of exactly the limit, after the words before it', () => {
      expect(splitText(`a ${'x'.repeat(25)} b`, 10)).toEqual([
        'a',
        'x'.repeat(10),
        'x'.repeat(10),
        'xxxxx b',
      ]);
    });

    it('counts Unicode code points, not UTF-16 units', () => {
      expect(splitText('a😀😀 b😀😀', 3)).toEqual(['a😀😀', 'b😀😀']);
      expect(splitText('😀😀x'.repeat(3), 3)).toEqual(['😀😀x', '😀😀x', '😀😀x']);
      expect(splitText('𝒜𝒝'.repeat(3), 4)).toEqual(['𝒜𝒝𝒜𝒝', '𝒜𝒝']);
    });

    it('never separates a letter from its combining accent', () => {
      const accented = 'e\u0301'.repeat(5);
      expect(splitText(accented, 3)).toEqual(Array.from({ length: 5 }, () => 'e\u0301'));
      expect(splitText(accented, 4)).toEqual(['e\u0301e\u0301', 'e\u0301e\u0301', 'e\u0301']);
    });

    it('never separates an emoji sequence or a flag when the limit allows it whole', () => {
      const family = '👨‍👩‍👧';
      expect(codePoints(family)).toBe(5);
      // Cutting by code points would give "👨‍👩‍👧a👨\u200d".
      expect(splitText(`${family}a`.repeat(3), 7)).toEqual([`${family}a`, `${family}a`, `${family}a`]);
      expect(splitText('🇯🇵x🇰🇷x🇫🇷x', 4)).toEqual(['🇯🇵x', '🇰🇷x', '🇫🇷x']);
    });

    it('cuts a grapheme longer than the limit between code points, keeping surrogate pairs whole', () => {
      // A decomposed Hangul syllable: three letters (jamo) that make one grapheme.
      const syllable = '\u1100\u1161\u11a8';
      expect([...new Intl.Segmenter().segment(syllable)]).toHaveLength(1);
      expect(splitText(`${syllable} ok`, 2)).toEqual(['\u1100\u1161', '\u11a8', 'ok']);
      // The pieces of a long emoji sequence have nothing to speak: they go with a neighbour, or are dropped.
      expect(splitText('a👨‍👩‍👧 ok', 2)).toEqual(['a', 'ok']);
      const chunks = splitText('👨‍👩‍👧ok', 3);
      expect(chunks).toEqual(['\u200d👧o', 'k']);
      expect(chunks.every((chunk) => chunk.isWellFormed())).toBe(true);
    });
  });

  describe('pieces with nothing to speak', () => {
    it('joins a run of emoji or punctuation to the chunk before it when it fits there', () => {
      // Packing alone gives "Big news.", "🎉🎉🎉", "Next one here.".
      expect(splitText('Big news.\n🎉🎉🎉\nNext one here.', 14)).toEqual([
        'Big news.\n🎉🎉🎉',
        'Next one here.',
      ]);
      expect(splitText('Done. ... Next one.', 9)).toEqual(['Done. ...', 'Next one.']);
    });

    it('joins it to the chunk after it when only that one has room', () => {
      expect(splitText('Big news here.\n🎉🎉🎉\nNext.', 14)).toEqual(['Big news here.', '🎉🎉🎉\nNext.']);
    });

    it('drops it when it fits with neither neighbour, keeping everything spoken', () => {
      expect(splitText('Full chunk.\n!!! ??? !!!\nFull chunk.', 11)).toEqual(['Full chunk.', 'Full chunk.']);
      // A silent run longer than a chunk: its cut pieces are dropped too.
      expect(splitText(`Start. ${'🎉'.repeat(30)} end`, 10)).toEqual(['Start.', 'end']);
    });

    it('drops silent pieces at the edges of the text that fit with no neighbour', () => {
      expect(splitText('🎉🎉🎉🎉🎉🎉 Hello there friend', 10)).toEqual(['Hello', 'there', 'friend']);
      expect(splitText('Hello there friend 🎉🎉🎉🎉🎉🎉', 10)).toEqual(['Hello', 'there', 'friend']);
      expect(splitText('Hello there friend 🎉🎉', 10)).toEqual(['Hello', 'there', 'friend 🎉🎉']);
    });

    // Found by fuzzing: 2,080 characters for Typecast gave a chunk of emoji alone, which Typecast refuses.
    describe.each([
      ['Smallest', PROVIDER_LIMITS.smallest.speech.maxCharsPerRequest],
      ['Typecast', PROVIDER_LIMITS.typecast.speech.maxCharsPerRequest],
    ])('at a chunk boundary, with the %s limit (%i)', (_provider, limit) => {
      // 79 code points: emoji, modifiers and punctuation, nothing to speak.
      const run = '🎉🤖✨!!👍🏽…🎉?'.repeat(8).slice(0, -1);

      it('keeps a run of emoji and punctuation out of a chunk of its own at the end of the text', () => {
        const words = wordsOf(limit, 3);
        const text = `${words} ${run}`;
        if (limit === 2_000) expect(codePoints(text)).toBe(2_080);
        const chunks = splitText(text, limit);
        expect(chunks).toEqual([words]);
        expectWellFormedChunks(text, chunks, limit);
      });

      it('keeps it out of a chunk of its own in the middle of the text', () => {
        const before = wordsOf(limit, 5);
        const after = wordsOf(limit + 40, 6);
        const text = `${before} ${run}\n${after}.`;
        const chunks = splitText(text, limit);
        expect(chunks[0]).toBe(before);
        expect(chunks.join(' ')).toContain(after.slice(-30));
        expectWellFormedChunks(text, chunks, limit);
      });

      it('puts a short run in with the next sentence when the chunk before is full', () => {
        const before = wordsOf(limit, 7);
        const text = `${before} 🎉🎉!\nOk ${'z'.repeat(limit)}`;
        expect(splitText(text, limit)).toEqual([before, '🎉🎉!\nOk', 'z'.repeat(limit)]);
      });
    });
  });

  describe('provider limits', () => {
    const sentences = (seed: number, characters: number) => {
      const random = seededRandom(seed);
      const vocabulary = ['the', 'voice', 'cloned', 'speaks', 'quietly', 'again', 'today', 'river', 'north'];
      const list: string[] = [];
      let length = 0;
      while (length < characters) {
        const words = Array.from({ length: 3 + Math.floor(random() * 25) }, () => pick(random, vocabulary));
        const sentence = `${words.join(' ')}${pick(random, ['.', '!', '?'])}`;
        list.push(sentence.charAt(0).toUpperCase() + sentence.slice(1));
        length += sentence.length + 1;
      }
      return list;
    };

    it("packs a 5,000-character text into Smallest's 250-character requests, sentence by sentence", () => {
      const limit = PROVIDER_LIMITS.smallest.speech.maxCharsPerRequest;
      expect(limit).toBe(250);
      const list = sentences(7, 5_000);
      const text = list
        .join(' ')
        .slice(0, 5_000)
        .replace(/\s*\S*$/u, '.');
      const parts = text.split(/(?<=[.!?]) /u);
      expect(codePoints(text)).toBeGreaterThan(4_900);

      const chunks = splitText(text, limit);

      // Greedy packing worked out by hand: a chunk closes when the next sentence would not fit.
      const expected: string[] = [];
      let current = '';
      for (const sentence of parts) {
        if (current && codePoints(`${current} ${sentence}`) > limit) {
          expected.push(current);
          current = sentence;
        } else {
          current = current ? `${current} ${sentence}` : sentence;
        }
      }
      expected.push(current);
      expect(chunks).toEqual(expected);
      expect(chunks.length).toBeGreaterThanOrEqual(20);
      expectWellFormedChunks(text, chunks, limit);
    });

    it("fits the longest speech request into three of Typecast's 2,000-character requests", () => {
      const limit = PROVIDER_LIMITS.typecast.speech.maxCharsPerRequest;
      const text = sentences(11, 6_000).join(' ').slice(0, 5_000);
      const chunks = splitText(text, limit);
      expect(chunks).toHaveLength(3);
      expectWellFormedChunks(text, chunks, limit);
    });
  });

  describe('properties over random texts', () => {
    const pieces = [
      'word',
      'a',
      'Satz',
      'voicedrop',
      'supercalifragilisticexpialidocious',
      'x'.repeat(70),
      '😀',
      '👍🏽',
      '👨‍👩‍👧',
      '🇯🇵',
      'e\u0301',
      '한국어',
      '音声合成',
      '今日は晴れです',
      'नमस्ते',
      '3.14',
      'example.com',
      '"quoted"',
      '(aside)',
    ];
    const separators = [
      ' ',
      ' ',
      ' ',
      '  ',
      '\n',
      '\r\n',
      '\t',
      '\u3000',
      '',
      '. ',
      '! ',
      '? ',
      '… ',
      '。',
      '！',
      '? ¿',
    ];

    function randomText(random: () => number): string {
      let text = random() < 0.3 ? pick(random, [' ', '\n', '  ']) : '';
      const count = Math.floor(random() * 80);
      for (let index = 0; index < count; index++) text += pick(random, pieces) + pick(random, separators);
      return text;
    }

    it('keeps every non-space character in order, within the limit, in trimmed non-empty chunks', () => {
      for (let seed = 1; seed <= 400; seed++) {
        const random = seededRandom(seed);
        const text = randomText(random);
        const limit = 1 + Math.floor(random() * 80);
        const chunks = splitText(text, limit);
        try {
          expectWellFormedChunks(text, chunks, limit);
        } catch (error) {
          throw new Error(`seed ${seed}, limit ${limit}, text ${JSON.stringify(text)}`, { cause: error });
        }
      }
    });

    it('returns exactly one chunk whenever the trimmed text fits', () => {
      for (let seed = 1_000; seed < 1_200; seed++) {
        const random = seededRandom(seed);
        const text = randomText(random);
        const trimmed = text.trim();
        const chunks = splitText(text, Math.max(1, codePoints(trimmed)));
        expect(chunks).toEqual(isSpeakable(trimmed) ? [trimmed] : []);
      }
    });

    // Texts heavy in what has nothing to speak, against tiny limits and both providers' limits.
    const silentPiece = fc.constantFrom(
      '🎉',
      '👨‍👩‍👧',
      '🇯🇵',
      '👍🏽',
      '!',
      '...',
      '…',
      '?!',
      '—',
      '"',
      '\u0000',
      '\u0301',
      '\u200d',
      '$',
      '。',
    );
    const silentRun = fc.array(silentPiece, { maxLength: 30 }).map((run) => run.join(''));
    const spoken = fc.constantFrom(
      'a',
      'word',
      'Satz',
      '3',
      'x'.repeat(40),
      '한국어',
      '音声',
      'नमस्ते',
      'e\u0301',
    );
    const gap = fc.constantFrom('', ' ', ' ', '\n', '. ', '! ', '\t', '\u3000');
    const mixedText = fc
      .array(fc.tuple(fc.oneof({ weight: 3, arbitrary: silentRun }, { weight: 2, arbitrary: spoken }), gap), {
        maxLength: 60,
      })
      .map((parts) => parts.map(([part, separator]) => part + separator).join(''));

    it('gives only speakable chunks within the limit that keep every letter and digit in order', () => {
      fc.assert(
        fc.property(
          mixedText,
          fc.oneof(
            fc.integer({ min: 1, max: 60 }),
            fc.constant(PROVIDER_LIMITS.smallest.speech.maxCharsPerRequest),
          ),
          (text, limit) => {
            expectWellFormedChunks(text, splitText(text, limit), limit);
          },
        ),
        { numRuns: 500 },
      );
    });

    it("holds for long texts with Typecast's limit too", () => {
      const limit = PROVIDER_LIMITS.typecast.speech.maxCharsPerRequest;
      // Runs of words up to a little over the limit, so silent runs often land at a chunk boundary.
      const words = fc.integer({ min: 1, max: limit + 100 }).map((length) => wordsOf(length, length));
      const longText = fc
        .array(fc.tuple(fc.oneof(words, mixedText), silentRun, gap), { minLength: 1, maxLength: 5 })
        .map((parts) => parts.map((part) => part.join(' ')).join(''));
      fc.assert(
        fc.property(longText, (text) => {
          expectWellFormedChunks(text, splitText(text, limit), limit);
        }),
        { numRuns: 100 },
      );
    });

    it('never breaks inside a word that fits in a chunk', () => {
      for (let seed = 2_000; seed < 2_200; seed++) {
        const random = seededRandom(seed);
        const text = randomText(random);
        const limit = 40 + Math.floor(random() * 40);
        // CJK terminators end a sentence without a space, so "晴れです。word" may rightly be two pieces.
        // A word with nothing to speak may be left out.
        const words = text
          .split(/\s+/u)
          .filter(
            (word) => word && codePoints(word) <= limit && !/[。！？]/u.test(word) && isSpeakable(word),
          );
        const chunkWords = new Set(splitText(text, limit).flatMap((chunk) => chunk.split(/\s+/u)));
        for (const word of words) expect(chunkWords).toContain(word);
      }
    });
  });
});
