/**
 * /v1/subscriptions: list, detail (consumers and the shards each owns,
 * committed offsets, lag per shard, unacked records) and delete, over the
 * same subscription manager as the gRPC handlers.
 */
import type { ServerContext } from '../context.js';
import { validateName } from '../core/names.js';
import { shardLags, totalLag } from '../core/subscriptions/lag.js';
import type { SubscriptionView } from '../core/subscriptions/manager.js';
import { booleanParam } from './fields.js';
import type { HttpHandler } from './handler.js';
import type { Router } from './router.js';

export function addSubscriptionRoutes(router: Router<HttpHandler>, ctx: ServerContext): void {
  const { subscriptions, store } = ctx;
  const summary = (view: SubscriptionView) => {
    const sub = subscriptions.get(view.meta.subscriptionId);
    return {
      subscription_id: view.meta.subscriptionId,
      stream_name: view.streamName,
      ack_timeout_seconds: sub.meta.ackTimeoutSeconds,
      max_unacked_records: sub.meta.maxUnackedRecords,
      offset: sub.meta.offset,
      created_ms: sub.meta.creationTimeMs,
      consumer_count: sub.consumerCount,
      unacked_records: sub.unackedRecords,
      lag_batches: totalLag(store, sub.committed()),
    };
  };

  router
    .add('GET', '/v1/subscriptions', () => ({ status: 200, body: subscriptions.list().map(summary) }))
    .add('GET', '/v1/subscriptions/:id', (req) => {
      const id = validateName('subscription', req.params.id);
      const sub = subscriptions.get(id);
      const owned = sub.assignment();
      const offsets = new Map(subscriptions.offsets(id).map((o) => [o.shardId, o.lsn]));
      return {
        status: 200,
        body: {
          ...summary({ meta: sub.meta, streamName: subscriptions.displayStreamName(sub) }),
          consumers: sub.consumers().map((c) => ({ name: c.name, uri: c.uri, user_agent: c.userAgent, shards: (owned[c.name] ?? []).map(String) })),
          shards: shardLags(store, sub.committed()).map((s) => ({
            shard_id: String(s.shardId),
            committed_batch_id: String(offsets.get(s.shardId) ?? 0),
            tail_batch_id: String(s.tailLsn),
            lag_batches: s.behind,
          })),
        },
      };
    })
    .add('DELETE', '/v1/subscriptions/:id', async (req) => {
      await subscriptions.delete(validateName('subscription', req.params.id), booleanParam(req.query, 'force'));
      return { status: 200, body: {} };
    });
}
