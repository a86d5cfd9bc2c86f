import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One delivery the receiver verified, and what it answered. */
export interface ReceivedWebhook {
  readonly id: string;
  readonly type: string;
  readonly voiceId: string;
  readonly answered: number;
}

/**
 * A webhook endpoint written independently of voicedrop's code (node:http and the standardwebhooks
 * package's verify, nothing else): verifies every delivery's signature (a bad or stale one is answered 400
 * and kept in `badSignatures`) and answers each verified one with `answer(delivery, earlier)`, where
 * `earlier` counts the deliveries under the same webhook-id before it.
 */
export async function startWebhookReceiver(
  secret: string,
  answer: (delivery: Omit<ReceivedWebhook, 'answered'>, earlier: number) => number,
) {
  const verifier = new Webhook(secret);
  const deliveries: ReceivedWebhook[] = [];
  const badSignatures: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let payload: { type: string; data: { voiceId: string } };
      try {
        payload = verifier.verify(
          Buffer.concat(chunks).toString('utf8'),
          request.headers as Record<string, string>,
        ) as typeof payload;
      } catch (error) {
        badSignatures.push(String(error));
        response.writeHead(400).end();
        return;
      }
      const delivery = {
        id: String(request.headers['webhook-id']),
        type: payload.type,
        voiceId: payload.data.voiceId,
      };
      const earlier = deliveries.filter((received) => received.id === delivery.id).length;
      const answered = answer(delivery, earlier);
      deliveries.push({ ...delivery, answered });
      response.writeHead(answered).end();
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    deliveries,
    badSignatures,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}
