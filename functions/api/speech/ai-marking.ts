import { writeLatin1 } from '../../shared/audio/bytes';
/**
 * Marks synthetic speech as such in the file's own metadata (EU AI Act Art. 50: machine-readable marking of
 * generated audio): a WAV `LIST`/`INFO` chunk before `data`, an ID3v2.3 tag at the start of an MP3. Each
 * says "AI-generated", the voice id and the time it was made; ffprobe and most players show them as tags.
 * Metadata is easily stripped (re-encoding, many upload pipelines): this is a label, not a watermark, and no
 * watermark is put into the audio itself (README, "Voice data").
 */

export interface SpeechMarking {
  /** The voicedrop voice that spoke. */
  readonly voiceId: string;
  /** When the audio was made (ISO 8601). */
  readonly at: string;
}

export const AI_GENERATED = 'AI-generated';
const SOFTWARE = 'voicedrop';

/** The sentence every marked file carries. */
export function markingComment(marking: SpeechMarking): string {
  return `${AI_GENERATED} speech: synthetic voice ${marking.voiceId}, made by ${SOFTWARE} at ${marking.at}. Not a recording of a person.`;
}

/**
 * A RIFF `LIST` chunk of type `INFO`: ICMT (comment), ISFT (software), ICRD (date), IGNR (genre: the
 * AI-generated label on its own), each a NUL-terminated string padded to an even size.
 */
export function wavInfoChunk(marking: SpeechMarking): Uint8Array {
  const entries: [string, string][] = [
    ['ICMT', markingComment(marking)],
    ['ISFT', `${SOFTWARE} (${AI_GENERATED}; voice ${marking.voiceId})`],
    ['ICRD', marking.at],
    ['IGNR', AI_GENERATED],
  ];
  const parts = entries.map(([id, text]) => {
    const value = latin1Bytes(`${text}\0`);
    const chunk = new Uint8Array(8 + value.length + (value.length % 2));
    writeLatin1(chunk, 0, id);
    new DataView(chunk.buffer).setUint32(4, value.length, true);
    chunk.set(value, 8);
    return chunk;
  });
  const body = parts.reduce((sum, part) => sum + part.length, 4);
  const output = new Uint8Array(8 + body);
  writeLatin1(output, 0, 'LIST');
  new DataView(output.buffer).setUint32(4, body, true);
  writeLatin1(output, 8, 'INFO');
  let offset = 12;
  for (const part of parts) {
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}

/**
 * An ID3v2.3 tag: TXXX "AI_GENERATED" and "VOICE_ID", COMM (the sentence), TSSE (software), TDAT-free
 * TXXX "CREATED_AT"; ISO-8859-1 text (all of it is ASCII), no unsynchronisation, no padding.
 */
export function id3Tag(marking: SpeechMarking): Uint8Array {
  const frames = [
    textFrame('TXXX', [0, ...latin1Bytes('AI_GENERATED\0'), ...latin1Bytes(markingComment(marking))]),
    textFrame('TXXX', [0, ...latin1Bytes('VOICE_ID\0'), ...latin1Bytes(marking.voiceId)]),
    textFrame('TXXX', [0, ...latin1Bytes('CREATED_AT\0'), ...latin1Bytes(marking.at)]),
    textFrame('COMM', [0, ...latin1Bytes('eng'), 0, ...latin1Bytes(markingComment(marking))]),
    textFrame('TSSE', [0, ...latin1Bytes(`${SOFTWARE} (${AI_GENERATED})`)]),
  ];
  const size = frames.reduce((sum, frame) => sum + frame.length, 0);
  const output = new Uint8Array(10 + size);
  writeLatin1(output, 0, 'ID3');
  output[3] = 3;
  output[4] = 0;
  output[5] = 0;
  // Syncsafe: seven bits per byte.
  for (let index = 0; index < 4; index++) output[6 + index] = (size >> (7 * (3 - index))) & 0x7f;
  let offset = 10;
  for (const frame of frames) {
    output.set(frame, offset);
    offset += frame.length;
  }
  return output;
}

function textFrame(id: string, data: readonly number[]): Uint8Array {
  const frame = new Uint8Array(10 + data.length);
  writeLatin1(frame, 0, id);
  new DataView(frame.buffer).setUint32(4, data.length, false);
  frame.set(data, 10);
  return frame;
}

function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (character) => {
    const code = character.charCodeAt(0);
    return code < 256 ? code : 0x3f;
  });
}
