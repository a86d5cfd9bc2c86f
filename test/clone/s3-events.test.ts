import { describe, expect, it } from 'vitest';
import {
  decodeMetadataValue,
  decodeS3EventKey,
  displayNameFromFileName,
  encodeS3EventKey,
  parseS3NotificationBody,
  routeUploadKey,
} from '../../functions/clone/s3-events';

describe('S3 event keys', () => {
  it('decodes + as space and %xx as UTF-8, as S3 encodes keys in notifications', () => {
    expect(decodeS3EventKey('incoming/smallest/My+Voice+%281%29.wav')).toBe(
      'incoming/smallest/My Voice (1).wav',
    );
    expect(decodeS3EventKey('incoming/typecast/%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF.mp3')).toBe(
      'incoming/typecast/こんにちは.mp3',
    );
    expect(decodeS3EventKey('incoming/a%2Bb.wav')).toBe('incoming/a+b.wav');
  });

  it('round-trips keys through the encoding S3 uses', () => {
    for (const key of [
      'incoming/smallest/Zoë Ünal.wav',
      'incoming/x y/Ωmega+plus (2)!.mp3',
      'incoming/é/a*b~c.webm',
    ]) {
      const encoded = encodeS3EventKey(key);
      expect(encoded).not.toMatch(/[ ()!*~]/);
      expect(decodeS3EventKey(encoded)).toBe(key);
    }
  });
});

describe('parseS3NotificationBody', () => {
  it('recognises the s3:TestEvent S3 sends when the notification is created', () => {
    const body = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b', Time: 'now' });
    expect(parseS3NotificationBody(body)).toEqual({ kind: 'test-event' });
  });

  it('reports a body that is not JSON as malformed', () => {
    expect(parseS3NotificationBody('not json').kind).toBe('malformed');
  });

  it('returns the decoded key, size, unquoted ETag and version of created objects only', () => {
    const body = JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: 'b' },
            object: { key: 'incoming/A+B.wav', size: 12, eTag: '"abc"', versionId: 'v1' },
          },
        },
        {
          eventName: 'ObjectRemoved:Delete',
          s3: { bucket: { name: 'b' }, object: { key: 'incoming/gone.wav' } },
        },
      ],
    });
    expect(parseS3NotificationBody(body)).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'b',
          key: 'incoming/A B.wav',
          size: 12,
          etag: 'abc',
          versionId: 'v1',
          sequencer: undefined,
          eventTime: undefined,
        },
      ],
    });
  });
});

describe('routeUploadKey', () => {
  it('takes the provider from the first folder under incoming/', () => {
    expect(routeUploadKey('incoming/typecast/Bob.mp3', 'smallest')).toEqual({
      kind: 'upload',
      provider: 'typecast',
      fileName: 'Bob.mp3',
    });
  });

  it('uses the default provider for files directly under incoming/', () => {
    expect(routeUploadKey('incoming/Alice.wav', 'typecast')).toEqual({
      kind: 'upload',
      provider: 'typecast',
      fileName: 'Alice.wav',
    });
  });

  it('flags an unknown provider folder so the upload is rejected with a reason', () => {
    expect(routeUploadKey('incoming/elevenlabs/x.wav', 'smallest')).toEqual({
      kind: 'unknown-provider',
      folder: 'elevenlabs',
      fileName: 'x.wav',
    });
  });

  it('ignores folder placeholders and keys outside incoming/', () => {
    expect(routeUploadKey('incoming/smallest/', 'smallest').kind).toBe('ignore');
    expect(routeUploadKey('speech/x.wav', 'smallest').kind).toBe('ignore');
  });
});

describe('display names', () => {
  it('strips the extension from the file name', () => {
    expect(displayNameFromFileName('My Voice.v2.wav')).toBe('My Voice.v2');
    expect(displayNameFromFileName('.hidden')).toBe('.hidden');
  });

  it('decodes percent-encoded UTF-8 and RFC 2047 words, and keeps what does not decode', () => {
    expect(decodeMetadataValue('Zo%C3%AB%20%E6%9D%B1%E4%BA%AC')).toBe('Zoë 東京');
    expect(decodeMetadataValue('=?UTF-8?B?Wm/DqyDmnbHkuqw=?=')).toBe('Zoë 東京');
    expect(decodeMetadataValue('=?utf-8?Q?Zo=C3=AB_x?=')).toBe('Zoë x');
    expect(decodeMetadataValue('100% real')).toBe('100% real');
    expect(decodeMetadataValue('a+b')).toBe('a+b');
  });
});
