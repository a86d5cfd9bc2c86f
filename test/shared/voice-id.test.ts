import { describe, expect, it } from 'vitest';
import { deriveVoiceId, VOICE_ID_PATTERN } from '../../functions/shared/voices/record';

describe('deriveVoiceId', () => {
  it('is vc_ plus 26 lowercase base32 characters', () => {
    expect(deriveVoiceId('bucket', 'incoming/a.wav', 'v1')).toMatch(VOICE_ID_PATTERN);
  });

  it('maps every delivery of one object version to the same id', () => {
    expect(deriveVoiceId('b', 'incoming/a.wav', 'v1')).toBe(deriveVoiceId('b', 'incoming/a.wav', 'v1'));
  });

  it('gives another version, key or bucket another id', () => {
    const ids = new Set([
      deriveVoiceId('b', 'incoming/a.wav', 'v1'),
      deriveVoiceId('b', 'incoming/a.wav', 'v2'),
      deriveVoiceId('b', 'incoming/b.wav', 'v1'),
      deriveVoiceId('c', 'incoming/a.wav', 'v1'),
    ]);
    expect(ids.size).toBe(4);
  });
});
