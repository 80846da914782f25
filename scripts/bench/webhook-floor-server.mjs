// The webhook bench's floor: bare Fastify answering the webhook route with a constant, with no
// logging, validation, Redis or anything else, so the same sender measured against it shows
// what this machine's HTTP stack alone costs for the same burst. Prints its port, then serves
// until SIGTERM.
import Fastify from 'fastify';

const app = Fastify();
app.post('/v1/webhooks/zapi/:secret', async () => ({ result: 'accepted' }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${app.server.address().port}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
