import { describe, expect, it } from 'vitest';
import { MultipartBody } from '../../functions/shared/providers/multipart';

async function parse(body: MultipartBody): Promise<FormData> {
  const bytes = new Uint8Array(await new Response(body.stream()).arrayBuffer());
  expect(bytes.length).toBe(body.length);
  return new Response(bytes, { headers: { 'Content-Type': body.contentType } }).formData();
}

describe('Class: MultipartBody', () => {
  const audio = new Uint8Array(200_000).map((_, index) => (index * 31) % 256);

  it('encodes fields and a file that a multipart parser reads back exactly, with the exact length', async () => {
    const body = new MultipartBody([
      { name: 'displayName', value: 'Zoë 東京 "quoted"' },
      { name: 'file', filename: 'sample.wav', contentType: 'audio/wav', data: audio },
      { name: 'tags', value: 'warm,vc_abc' },
    ]);
    const form = await parse(body);
    expect(form.get('displayName')).toBe('Zoë 東京 "quoted"');
    expect(form.get('tags')).toBe('warm,vc_abc');
    const file = form.get('file') as File;
    expect(file.name).toBe('sample.wav');
    expect(file.type).toBe('audio/wav');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(audio);
  });

  it('can be streamed again for a retried request', async () => {
    const body = new MultipartBody([
      { name: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', data: audio },
    ]);
    const first = new Uint8Array(await new Response(body.stream()).arrayBuffer());
    const second = new Uint8Array(await new Response(body.stream()).arrayBuffer());
    expect(second).toEqual(first);
  });
});
