// The stream activity's last heartbeat (its StreamCursor), decoded with the client's own data
// converter through public SDK interfaces: codecs in reverse order, then the payload converter.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { StreamCursor } from '../activities/types';

/** The cursor in a pending stream activity's heartbeat details; undefined when there is none or it cannot be read. */
export async function decodeHeartbeatCursor(
  client: Client,
  payloads: Payload[] | null | undefined,
): Promise<StreamCursor | undefined> {
  try {
    const value = await decodeFirstPayload(client, payloads);
    return isStreamCursor(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The first payload decoded with the client's data converter (codecs in reverse, then the converter). */
export async function decodeFirstPayload(
  client: Client,
  payloads: Payload[] | null | undefined,
): Promise<unknown> {
  if (!payloads?.length) return undefined;
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = payloads.slice(0, 1);
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return payloadConverter.fromPayload(decoded[0]!);
}

function isStreamCursor(value: unknown): value is StreamCursor {
  const summary = (value as StreamCursor | null)?.summary;
  return typeof summary === 'object' && summary !== null && typeof summary.runId === 'string';
}
