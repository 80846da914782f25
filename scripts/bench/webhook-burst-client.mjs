// Sends bursts of Z-API webhook deliveries from a process of its own (so the sender's work
// does not share the server's event loop) and prints every answer's status, body and time.
// Plain sockets and requests built beforehand, so the sender adds as little as it can to the
// times it measures: a delivery's clock starts just before its bytes are written (or, for a
// new connection, just before it connects) and stops when the whole answer has arrived.
//
//   node webhook-burst-client.mjs <url> <instanceId> <firstPhone> <count> <mode> [bursts] [pauseMs]
//
// mode: open   all <count> at once, each on a connection opened beforehand (a sender that
//              keeps its connections alive);
//       new    all at once, each on a connection of its own opened with it;
//       serial one after the other on one kept-alive connection.
// Each burst uses new phones and message ids, and follows a quiet pause (default 500 ms), as
// bursts do: back to back they would measure a sustained rate instead. Output: JSON, one
// array of answers per burst.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const [url, instanceId, firstPhone, countText, mode, burstsText = '1', pauseText = '500'] = process.argv.slice(2);
const { hostname, port, pathname } = new URL(url);
const count = Number(countText);
const bursts = Number(burstsText);
if (!['open', 'new', 'serial'].includes(mode) || !(count > 0) || !(bursts > 0)) {
  process.stderr.write(
    'usage: webhook-burst-client.mjs <url> <instanceId> <firstPhone> <count> open|new|serial [bursts]\n',
  );
  process.exit(2);
}

function delivery(index) {
  const phone = String(Number(firstPhone) + index);
  const body = JSON.stringify({
    type: 'ReceivedCallback',
    instanceId,
    messageId: `burst-${phone}`,
    phone,
    fromMe: false,
    isGroup: false,
    isNewsletter: false,
    broadcast: false,
    senderPhoto: null,
    text: { message: 'oi' },
  });
  return Buffer.from(
    `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function connect() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

/** The next whole answer on this socket (the server answers with Content-Length). */
function answer(socket, started) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk) => {
      text += chunk;
      const headersEnd = text.indexOf('\r\n\r\n');
      if (headersEnd < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, headersEnd))?.[1] ?? 0);
      if (text.length < headersEnd + 4 + length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve({
        status: Number(text.slice(9, 12)),
        body: text.slice(headersEnd + 4, headersEnd + 4 + length),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

async function burst(offset) {
  const requests = Array.from({ length: count }, (_, index) => delivery(offset + index));
  if (mode === 'serial') {
    const socket = await connect();
    const answers = [];
    for (const request of requests) {
      const started = process.hrtime.bigint();
      const pending = answer(socket, started);
      socket.write(request);
      answers.push(await pending);
    }
    socket.destroy();
    return answers;
  }
  if (mode === 'open') {
    const sockets = await Promise.all(requests.map(() => connect()));
    const pending = requests.map((request, index) => {
      const started = process.hrtime.bigint();
      const result = answer(sockets[index], started);
      sockets[index].write(request);
      return result;
    });
    const answers = await Promise.all(pending);
    sockets.forEach((socket) => socket.destroy());
    return answers;
  }
  const pending = requests.map((request) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(Number(port), hostname);
    socket.setNoDelay(true);
    socket.write(request);
    return answer(socket, started).finally(() => socket.destroy());
  });
  return Promise.all(pending);
}

const results = [];
for (let index = 0; index < bursts; index++) {
  if (index > 0) await sleep(Number(pauseText));
  results.push(await burst(index * count));
}
process.stdout.write(JSON.stringify(results));
