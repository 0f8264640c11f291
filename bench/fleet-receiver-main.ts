// The fleet benchmark's webhook receiver (mode b): serve/webhooks' receiver alone in its own process,
// as `coasty-temporal webhooks` runs it (startWebhookServer), on 127.0.0.1 with a free port.
// Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, COASTY_WEBHOOK_SECRET. Prints "receiver ready <url>";
// on SIGTERM prints "counts <json>" (the receiver's delivery counts) and stops.
import { Client, Connection } from '@temporalio/client';
import { startWebhookServer } from '../serve/webhooks/server';

const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
const server = await startWebhookServer({ client, secret: process.env.COASTY_WEBHOOK_SECRET!, port: 0 });
console.log(`receiver ready ${server.url}`);
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
console.log(`counts ${JSON.stringify(server.receiver.counts)}`);
await server.stop();
await connection.close();
