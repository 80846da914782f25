import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

/**
 * A webhook receiver on 127.0.0.1: records every request; `answer` decides the reply (by
 * default 204 at once). A handler may hold a request (never answer) to simulate a receiver
 * that has not replied yet.
 */
export interface EventReceiver {
  url: string;
  received: ReceivedEvent[];
  answer: (request: ReceivedEvent, response: ServerResponse) => void;
  close(): Promise<void>;
}

export async function startEventReceiver(): Promise<EventReceiver> {
  const held = new Set<ServerResponse>();
  const receiver: EventReceiver = {
    url: '',
    received: [],
    answer: (_, response) => response.writeHead(204).end(),
    async close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const event: ReceivedEvent = {
        path: request.url ?? '',
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [
            name,
            Array.isArray(value) ? value.join(',') : value!,
          ]),
        ),
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      receiver.received.push(event);
      held.add(response);
      response.on('close', () => held.delete(response));
      receiver.answer(event, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
