/**
 * What an MP4 audio sample entry says its codec is (mp4.ts): the esds box's decoder configuration (object
 * type, AAC profile, sample rate, channels) and the names of the other sample entry types.
 */

import { uint16BigEndian } from './bytes';
import { type Box, boxes, child, descriptor } from './mp4-boxes';

/** What an esds box says about the stream: its object type and, for AAC, the AudioSpecificConfig. */
export interface DecoderConfig {
  /** ISO/IEC 14496-1 objectTypeIndication: 0x40 MPEG-4 audio, 0x66–0x68 MPEG-2 AAC, 0x69/0x6B MP3. */
  readonly objectTypeIndication: number;
  /** MPEG-4 audio object type (2 AAC LC, 5 SBR, 29 PS, …), for objectTypeIndication 0x40. */
  readonly audioObjectType: number | undefined;
  readonly sampleRate: number | undefined;
  readonly channels: number | undefined;
}

const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

export function readDecoderConfig(bytes: Uint8Array, esds: Box): DecoderConfig | undefined {
  const elementary = descriptor(bytes, esds.contentStart + 4);
  if (elementary?.tag !== 0x03) return undefined;
  const flags = bytes[elementary.start + 2] ?? 0;
  let offset = elementary.start + 3;
  if (flags & 0x80) offset += 2;
  if (flags & 0x40) offset += 1 + (bytes[offset] ?? 0);
  if (flags & 0x20) offset += 2;
  const decoderConfig = descriptor(bytes, offset);
  const objectTypeIndication = bytes[decoderConfig?.start ?? bytes.length];
  if (decoderConfig?.tag !== 0x04 || objectTypeIndication === undefined) return undefined;
  const config: DecoderConfig = {
    objectTypeIndication,
    audioObjectType: undefined,
    sampleRate: undefined,
    channels: undefined,
  };
  // Only MPEG-4 audio carries an AudioSpecificConfig.
  const specific = objectTypeIndication === 0x40 ? descriptor(bytes, decoderConfig.start + 13) : undefined;
  if (specific?.tag !== 0x05 || specific.end > bytes.length) return config;
  // Bit layout: object type (5 bits, or 5+6 when 31), frequency index (4, or 4+24 when 15), channels (4).
  let bit = 0;
  const bits = (count: number): number => {
    let value = 0;
    for (let index = 0; index < count; index++, bit++) {
      const byte = bytes[specific.start + (bit >> 3)] ?? 0;
      value = value * 2 + ((byte >> (7 - (bit & 7))) & 1);
    }
    return value;
  };
  let audioObjectType = bits(5);
  if (audioObjectType === 31) audioObjectType = 32 + bits(6);
  const frequencyIndex = bits(4);
  const sampleRate = frequencyIndex === 15 ? bits(24) : AAC_SAMPLE_RATES[frequencyIndex];
  const configuration = bits(4);
  const channels =
    configuration >= 1 && configuration <= 6 ? configuration : configuration === 7 ? 8 : undefined;
  return { objectTypeIndication, audioObjectType, sampleRate: sampleRate || undefined, channels };
}

const AAC_PROFILES: Readonly<Record<number, string>> = {
  1: 'AAC Main',
  3: 'AAC SSR',
  4: 'AAC LTP',
  5: 'HE-AAC',
  23: 'AAC LD',
  29: 'HE-AAC v2',
  39: 'AAC ELD',
  42: 'USAC',
};

/** Names of audio sample entry types other than mp4a (mostly music-metadata's, which the logs showed before). */
const SAMPLE_ENTRY_CODECS: Readonly<Record<string, string>> = {
  alac: 'ALAC',
  'ac-3': 'AC-3',
  'ec-3': 'E-AC-3',
  Opus: 'Opus',
  fLaC: 'FLAC',
  '.mp3': 'MPEG-1 layer 3',
  samr: 'AMR',
  sawb: 'AMR-WB',
  ulaw: 'uLaw 2:1',
  alaw: 'aLaw 2:1',
  ima4: 'IMA 4:1',
  lpcm: 'PCM',
  sowt: 'PCM',
  twos: 'PCM',
  raw: 'PCM',
  in24: 'PCM',
  in32: 'PCM',
  fl32: 'PCM',
  fl64: 'PCM',
};

export function codecName(entryType: string, config: DecoderConfig | undefined): string {
  if (entryType === 'mp4a') {
    const indication = config?.objectTypeIndication;
    if (indication === 0x69 || indication === 0x6b) return 'MPEG-1 layer 3';
    const profile = AAC_PROFILES[config?.audioObjectType ?? 2];
    return profile ? `MPEG-4/${profile}` : 'MPEG-4/AAC';
  }
  return SAMPLE_ENTRY_CODECS[entryType.trim()] ?? `<${entryType}>`;
}

/** The esds box of an audio sample entry (directly inside it, or in QuickTime's `wave` wrapper). */
export function findEsds(bytes: Uint8Array, entry: Box): Box | undefined {
  const version = uint16BigEndian(bytes, entry.contentStart + 8) ?? 0;
  // SoundDescription v0 is 28 bytes; QuickTime v1 adds 16 and v2 adds 36.
  const childrenStart = entry.contentStart + (version === 1 ? 44 : version === 2 ? 64 : 28);
  for (const box of boxes(bytes, childrenStart, entry.end)) {
    if (box.type === 'esds') return box;
    if (box.type === 'wave') return child(bytes, box, 'esds');
  }
  return undefined;
}
