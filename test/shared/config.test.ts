import { describe, expect, it } from 'vitest';
import { EnvironmentReader } from '../../functions/shared/config';

describe('EnvironmentReader', () => {
  it('reports every missing or malformed variable in one error', () => {
    const reader = new EnvironmentReader({ PROVIDER_TIMEOUT_MS: 'soon', DEFAULT_PROVIDER: 'elevenlabs' });
    reader.required('VOICES_TABLE_NAME');
    reader.positiveInteger('PROVIDER_TIMEOUT_MS', 1);
    reader.provider('DEFAULT_PROVIDER', 'smallest');
    reader.url('SMALLEST_API_BASE_URL', 'ftp://nope');
    expect(() => reader.done()).toThrow(
      /VOICES_TABLE_NAME is required; PROVIDER_TIMEOUT_MS must be a positive whole number \(got "soon"\); DEFAULT_PROVIDER must be "smallest" or "typecast" \(got "elevenlabs"\); SMALLEST_API_BASE_URL must be an http\(s\) URL/,
    );
  });

  it('returns values and defaults when all is well, without trailing slashes on URLs', () => {
    const reader = new EnvironmentReader({
      VOICES_TABLE_NAME: 't',
      TYPECAST_API_BASE_URL: 'http://127.0.0.1:9/',
    });
    expect(reader.required('VOICES_TABLE_NAME')).toBe('t');
    expect(reader.url('TYPECAST_API_BASE_URL', 'https://x')).toBe('http://127.0.0.1:9');
    expect(reader.positiveInteger('PROVIDER_TIMEOUT_MS', 60_000)).toBe(60_000);
    expect(() => reader.done()).not.toThrow();
  });
});
