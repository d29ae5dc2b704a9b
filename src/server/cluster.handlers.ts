/** Echo, DescribeCluster and the Lookup* RPCs. One node: every lookup answers this node. */
import type { ServerContext } from '../context.js';
import { ErrorCode, invalidArgument, notFound } from '../errors.js';
import type { RouteTable } from './routes.js';
import { quoted } from './validate.js';

export const PROTOCOL_VERSION = '0.1.0';

const RESOURCE_TYPES = ['ResStream', 'ResSubscription', 'ResShard', 'ResShardReader', 'ResConnector', 'ResQuery', 'ResView'];

export function clusterRoutes(ctx: ServerContext): RouteTable {
  return {
    Echo: (req: { msg: string }) => ({ msg: req.msg }),
    DescribeCluster: () => {
      const node = ctx.self();
      return {
        protocolVersion: PROTOCOL_VERSION,
        serverNodes: [node],
        serverNodesStatus: [{ node, state: 'Running' }],
        clusterUpTime: String(Math.max(0, Math.floor((Date.now() - ctx.clusterStartMs) / 1000))),
      };
    },
    LookupShard: (req: { shardId: string }) => ({ shardId: req.shardId, serverNode: ctx.self() }),
    LookupKey: () => ctx.self(),
    LookupShardReader: (req: { readerId: string }) => ({ readerId: req.readerId, serverNode: ctx.self() }),
    LookupSubscription: (req: { subscriptionId: string }) => ({ subscriptionId: req.subscriptionId, serverNode: ctx.self() }),
    LookupResource: (req: { resType: string | number; resId: string }) => {
      if (typeof req.resType !== 'string' || !RESOURCE_TYPES.includes(req.resType)) {
        throw invalidArgument(ErrorCode.InternalError, 'InvalidResourceType', { extra: String(req.resType) });
      }
      if (req.resType === 'ResView') {
        // No views exist until continuous queries land. Upstream's ViewNotFound carries QueryNotFound's code.
        throw notFound(ErrorCode.QueryNotFound, 'ViewNotFound', { extra: quoted(req.resId) });
      }
      return ctx.self();
    },
  };
}
