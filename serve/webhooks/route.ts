// `POST /webhooks/runs`: the runs API's deliveries, read as raw text (the signature covers the bytes),
// answered at once with JSON; the rules are the receiver's (receiver.ts).
import type { FastifyInstance } from 'fastify';
import type { WebhookReceiver } from './receiver';

export const WEBHOOK_PATH = '/webhooks/runs';

export async function registerWebhookRoute(
  fastify: FastifyInstance,
  receiver: WebhookReceiver,
): Promise<void> {
  await fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Any content type: the body is checked as JSON after its signature, never parsed before.
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    // An event is small, but an agent's observation may be long: the API's own body limit (1 MB).
    scope.post(WEBHOOK_PATH, { bodyLimit: 1024 * 1024 }, async (request, reply) => {
      const answer = await receiver.handle({
        query: request.query as Record<string, unknown>,
        headers: request.headers,
        rawBody: typeof request.body === 'string' ? request.body : '',
      });
      return reply.status(answer.status).send(answer.body);
    });
  });
}
