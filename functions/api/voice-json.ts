import { VOICE_ID_PATTERN, type VoiceRecord } from '../shared/voices/record';

/** The public voice JSON: the record's attribute names, without the pipeline's bookkeeping. */
export function toVoiceJson(record: VoiceRecord): Record<string, unknown> {
  const { processing: _processing, listPartition: _listPartition, ...visible } = record;
  return visible;
}

/** Opaque list cursor: the last index position, base64url-encoded. */
export function encodeCursor(position: { voiceId: string; createdAt: string }): string {
  return Buffer.from(JSON.stringify([position.voiceId, position.createdAt])).toString('base64url');
}

export function decodeCursor(cursor: string): { voiceId: string; createdAt: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [voiceId, createdAt] = value as unknown[];
    if (typeof voiceId !== 'string' || typeof createdAt !== 'string') return undefined;
    if (!VOICE_ID_PATTERN.test(voiceId) || Number.isNaN(Date.parse(createdAt))) return undefined;
    return { voiceId, createdAt };
  } catch {
    return undefined;
  }
}
