import { describe, expect, it } from 'vitest';
import { smallestLiveAudio } from '../../functions/shared/providers/smallest/live';
import { type ServerSentEvent, SseParser } from '../../functions/shared/providers/sse';

/** Every event of `bytes` fed in the given pieces. */
function parse(pieces: readonly Uint8Array[]): ServerSentEvent[] {
  const parser = new SseParser();
  return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()];
}

/** `bytes` split at `cuts` (sorted offsets). */
function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  return pieces;
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Comments, CRLF, CR, multi-line data, an event type, an id, an unknown field, UTF-8 of 2–4 bytes. */
const STREAM = encode(
  '\uFEFF: a comment\r\n' +
    'data: {"audio":"AAAB","done":false,"status":"206"}\r\n\r\n' +
    'event: note\rid: 7\rdata: first line\rdata:second line é€😀\r\r' +
    'retry: 1000\nunknown: x\ndata\n\n' +
    ':ping\n\n' +
    'data: {"status":"200","done":true}\n\n',
);
const EXPECTED: ServerSentEvent[] = [
  { event: 'message', data: '{"audio":"AAAB","done":false,"status":"206"}' },
  { event: 'note', data: 'first line\nsecond line é€😀', id: '7' },
  { event: 'message', data: '', id: '7' },
  { event: 'message', data: '{"status":"200","done":true}', id: '7' },
];

describe('Class: SseParser', () => {
  it('reads events, comments, CR/LF/CRLF line ends, multi-line data and ids from one chunk', () => {
    expect(parse([STREAM])).toEqual(EXPECTED);
  });

  it('reads the same events whatever single byte boundary splits the stream', () => {
    for (let cut = 1; cut < STREAM.byteLength; cut += 1) {
      expect(parse(splitAt(STREAM, [cut])), `split at byte ${cut}`).toEqual(EXPECTED);
    }
  });

  it('reads the same events fed one byte at a time', () => {
    const bytes = [...STREAM].map((_, index) => STREAM.subarray(index, index + 1));

    expect(parse(bytes)).toEqual(EXPECTED);
  });

  it('reads the same events split at every pair of boundaries', () => {
    for (let first = 1; first < STREAM.byteLength; first += 3) {
      for (let second = first + 1; second < STREAM.byteLength; second += 5) {
        expect(parse(splitAt(STREAM, [first, second]))).toEqual(EXPECTED);
      }
    }
  });

  it('dispatches a last event without its blank line, but drops a last line cut before its line end', () => {
    expect(parse([encode('data: whole\n')])).toEqual([{ event: 'message', data: 'whole' }]);
    expect(parse([encode('data: whole\n\ndata: {"cut')])).toEqual([{ event: 'message', data: 'whole' }]);
  });
});

describe('Function: smallestLiveAudio', () => {
  const pcm = new Uint8Array([1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]);
  const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
  const body = encode(
    event({ audio: Buffer.from(pcm.subarray(0, 6)).toString('base64'), done: false, status: '206' }) +
      ': keep-alive\n\n' +
      event({ audio: Buffer.from(pcm.subarray(6)).toString('base64'), done: false, status: '206' }) +
      event({ status: '200', done: true }),
  );
  async function* chunks(pieces: readonly Uint8Array[]) {
    yield* pieces;
  }
  async function read(pieces: readonly Uint8Array[]) {
    const out: Uint8Array[] = [];
    for await (const chunk of smallestLiveAudio(chunks(pieces), {
      sampleRate: 16_000,
      providerVoiceId: 'v',
    })) {
      out.push(chunk);
    }
    return Buffer.concat(out);
  }

  it('turns the events into a WAV header and the PCM, whatever byte boundary splits them', async () => {
    const whole = await read([body]);
    expect(whole.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(whole.readUInt32LE(24)).toBe(16_000);
    expect(whole.readUInt32LE(40)).toBe(0xffff_ffff);
    expect([...whole.subarray(44)]).toEqual([...pcm]);

    for (let cut = 1; cut < body.byteLength; cut += 1) {
      expect((await read(splitAt(body, [cut]))).equals(whole), `split at byte ${cut}`).toBe(true);
    }
  });

  it('throws for an error status, and for a stream without its done event', async () => {
    await expect(read([encode(event({ status: '429', error: 'busy' }))])).rejects.toMatchObject({
      kind: 'rate_limited',
      retryable: false,
    });
    await expect(read([body.subarray(0, body.byteLength - 40)])).rejects.toThrow(/before its final "done"/);
  });
});
