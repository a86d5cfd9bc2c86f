import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeGateways, gateways, recordingHandler, start } from './api-gateway-support';

afterEach(async () => {
  await closeGateways();
  vi.restoreAllMocks();
});

describe('local API gateway: listening and closing', () => {
  it('listens on 127.0.0.1 only', async () => {
    const { gateway } = await start(recordingHandler().handler);
    const { hostname, port } = new URL(gateway.url);
    expect(hostname).toBe('127.0.0.1');

    const otherAddresses = Object.values(networkInterfaces())
      .flatMap((addresses) => addresses ?? [])
      .filter((address) => !address.internal)
      .map((address) => address.address);
    for (const address of [...otherAddresses, '::1']) {
      await expect(canConnect(address, Number(port))).resolves.toBe(false);
    }
    await expect(canConnect('127.0.0.1', Number(port))).resolves.toBe(true);
  });

  it('closes promptly with an idle keep-alive connection and a request still in the handler', async () => {
    let handlerCalled: () => void = () => {};
    const called = new Promise<void>((resolve) => {
      handlerCalled = resolve;
    });
    const { gateway } = await start(async (event) => {
      if (event.resource === '/uploads') {
        handlerCalled();
        await new Promise(() => {});
      }
      return { statusCode: 200, body: '{}' };
    });
    const idle = await fetch(`${gateway.url}/voices`, { headers: { connection: 'keep-alive' } });
    await idle.text();
    const inFlight = fetch(`${gateway.url}/uploads`, { method: 'POST', body: '{}' });
    await called;

    const startedAt = Date.now();
    await gateways.splice(0)[0]?.close();

    expect(Date.now() - startedAt).toBeLessThan(1_000);
    await expect(inFlight).rejects.toThrow();
    await expect(canConnect('127.0.0.1', Number(new URL(gateway.url).port))).resolves.toBe(false);
  });
});

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
