import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeGateways, start } from './api-gateway-support';

afterEach(async () => {
  await closeGateways();
  vi.restoreAllMocks();
});

describe('local API gateway: the response the client receives', () => {
  it('sends random bytes from a base64-encoded result back exactly, with a correct Content-Length', async () => {
    const audio = randomBytes(100_003);
    const { gateway, entries } = await start(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'audio/wav' },
      body: audio.toString('base64'),
      isBase64Encoded: true,
    }));

    const response = await fetch(`${gateway.url}/v1/voices/vc_1/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'audio/wav' },
      body: '{"text":"hi","format":"wav"}',
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/wav');
    expect(response.headers.get('content-length')).toBe(String(audio.length));
    expect(Buffer.from(await response.arrayBuffer()).equals(audio)).toBe(true);
    expect(entries).toEqual([]);
  });

  it('warns once when the deployed API would send a binary result as base64 text (first Accept type not binary)', async () => {
    const { gateway, entries } = await start(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'audio/mpeg' },
      body: Buffer.from([0xff, 0xfb, 0x90, 0x00]).toString('base64'),
      isBase64Encoded: true,
    }));
    const speak = () =>
      fetch(`${gateway.url}/voices/vc_1/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: '*/*' },
        body: '{}',
      });

    const first = await speak();
    await speak();

    expect(Buffer.from(await first.arrayBuffer())).toEqual(Buffer.from([0xff, 0xfb, 0x90, 0x00]));
    expect(entries.filter((entry) => entry.level === 'warn')).toHaveLength(1);
    expect(entries[0]?.message).toMatch(/base64 text/);
  });

  it('passes a JSON result through with its status code, headers and UTF-8 body', async () => {
    const body = JSON.stringify({ voiceId: 'vc_1', displayName: 'Зоя 🎙' });
    const { gateway } = await start(async () => ({
      statusCode: 201,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'X-Voicedrop-Version': 3,
        'Cache-Control': 'no-store',
      },
      body,
    }));

    const response = await fetch(`${gateway.url}/uploads`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-voicedrop-version')).toBe('3');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(await response.text()).toBe(body);
  });

  it('sends every multiValueHeaders value as its own header line, and prefers them over headers of the same name', async () => {
    const { gateway } = await start(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'text/plain', Vary: 'Accept' },
      multiValueHeaders: {
        'Set-Cookie': ['a=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2; Path=/'],
        vary: ['Accept', 'Origin'],
      },
      body: 'ok',
    }));

    const response = await fetch(`${gateway.url}/voices`);

    expect(response.headers.getSetCookie()).toEqual([
      'a=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT',
      'b=2; Path=/',
    ]);
    expect(response.headers.get('vary')).toBe('Accept, Origin');
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('ok');
  });

  it('answers a result with only multiValueHeaders and no body (the shape hono/aws-lambda returns)', async () => {
    const { gateway } = await start(async () => ({
      statusCode: 204,
      multiValueHeaders: { 'x-voicedrop-deleted': ['vc_1'] },
      body: '',
    }));

    const response = await fetch(`${gateway.url}/voices/vc_1`, { method: 'DELETE' });

    expect(response.status).toBe(204);
    expect(response.headers.get('x-voicedrop-deleted')).toBe('vc_1');
    expect(await response.text()).toBe('');
  });
});
