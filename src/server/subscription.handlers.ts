/**
 * Subscriptions and StreamingFetch. Thin: validate, call the subscription
 * manager, shape the reply. StreamingFetch binds one DurableConsumer (the
 * API in-process consumers use) to the call: the first message registers it,
 * later messages carry acks, and batches go out one per message through
 * `send`, waiting for the transport to drain.
 */
import type * as grpc from '@grpc/grpc-js';
import type { ServerContext } from '../context.js';
import type { DeliveredBatch } from '../core/subscriptions/consumer.js';
import { DurableConsumer } from '../core/subscriptions/durable-consumer.js';
import type { SubscriptionMeta } from '../core/subscriptions/subscription.js';
import { receivedRecord, timestamp } from './convert.js';
import type { ReceivedRecord, StreamingFetchRequest, Subscription } from './messages.js';
import type { RouteTable } from './routes.js';
import { validateName } from './validate.js';
import { messageReader, send } from './wrap.js';

export function toSubscriptionMessage(meta: SubscriptionMeta, streamName = meta.streamName): Subscription {
  return {
    subscriptionId: meta.subscriptionId,
    streamName,
    ackTimeoutSeconds: meta.ackTimeoutSeconds,
    maxUnackedRecords: meta.maxUnackedRecords,
    offset: meta.offset,
    creationTime: timestamp(meta.creationTimeMs),
  };
}

/** A batch, or the unacked subset of one, as sent: RecordIds only for the records in the payload. */
export function toDeliveredRecord(b: DeliveredBatch): ReceivedRecord {
  return receivedRecord(b, b.indexes);
}

function firstValue(metadata: grpc.Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

type FetchCall = grpc.ServerDuplexStream<StreamingFetchRequest, { receivedRecords: ReceivedRecord }>;

export function subscriptionRoutes(ctx: ServerContext): RouteTable {
  const { subscriptions } = ctx;

  return {
    CreateSubscription: async (req: Subscription) => {
      const subscriptionId = validateName('subscription', req.subscriptionId);
      const streamName = validateName('stream', req.streamName);
      const meta = await subscriptions.create({
        subscriptionId,
        streamName,
        ackTimeoutSeconds: req.ackTimeoutSeconds,
        maxUnackedRecords: req.maxUnackedRecords,
        offset: req.offset,
      });
      return toSubscriptionMessage(meta);
    },

    GetSubscription: (req: { id: string }) => {
      const sub = subscriptions.get(req.id);
      return {
        subscription: toSubscriptionMessage(sub.meta),
        offsets: subscriptions.offsets(req.id).map(({ shardId, lsn }) => ({ shardId: String(shardId), batchId: String(lsn) })),
      };
    },

    ListSubscriptions: () => ({
      subscription: subscriptions.list().map((s) => toSubscriptionMessage(s.meta, s.streamName)),
    }),

    ListSubscriptionsWithPrefix: (req: { prefix: string }) => {
      const prefix = validateName('subscription', req.prefix);
      return { subscription: subscriptions.list(prefix).map((s) => toSubscriptionMessage(s.meta, s.streamName)) };
    },

    CheckSubscriptionExist: (req: { subscriptionId: string }) => ({ exists: subscriptions.exists(req.subscriptionId) }),

    ListConsumers: (req: { subscriptionId: string }) => ({ consumers: subscriptions.consumers(req.subscriptionId) }),

    DeleteSubscription: async (req: { subscriptionId: string; force: boolean }) => {
      await subscriptions.delete(req.subscriptionId, req.force);
      return {};
    },

    StreamingFetch: async (call: FetchCall, signal: AbortSignal) => {
      // Ends reading the client's messages when the consumer closes first (force delete).
      const consumerGone = new AbortController();
      const next = messageReader(call, AbortSignal.any([signal, consumerGone.signal]));
      const first = await next();
      if (!first) return;
      const metadata = call.metadata;
      const consumer = DurableConsumer.open(subscriptions, first.subscriptionId, {
        name: first.consumerName,
        // HTTP/2 joins repeated headers with ", "; the first entry is the original client.
        uri: firstValue(metadata, 'x-forwarded-for')?.split(',')[0]!.trim() || call.getPeer(),
        userAgent: firstValue(metadata, 'proxy-agent') ?? firstValue(metadata, 'user-agent') ?? '',
        signal,
        // one batch waits while the previous one is written: the transport's room is the back-pressure
        buffer: 2,
      });
      consumer.signal.addEventListener('abort', () => consumerGone.abort(), { once: true });
      const sending = (async () => {
        for await (const batch of consumer) {
          const drained = send(call, { receivedRecords: toDeliveredRecord(batch.delivered) }, consumer.signal);
          // write() returned false: take no more until the transport drains
          if (call.writableNeedDrain) await drained;
        }
      })();
      sending.catch(() => undefined); // awaited below; until then a rejection must not count as unhandled
      try {
        // Acks in the first message are ignored, as upstream does; later ones count for this consumer.
        for (;;) {
          const msg = await next();
          if (!msg) break;
          if (msg.ackIds.length > 0) consumer.ackIds(msg.ackIds);
        }
      } finally {
        consumer.close();
      }
      // ends with the consumer; rethrows what ended it from the server side (force delete)
      await sending;
    },
  };
}
