/** Connector RPCs: thin over the connector manager (src/connectors/manager.ts). */
import type { ServerContext } from '../context.js';
import type { ConnectorView } from '../connectors/view.js';
import { toStructMessage } from '../struct.js';
import { timestamp } from './convert.js';
import type { RouteTable } from './routes.js';

/** Upstream's Connector message. ListConnectors fills the same fields as GetConnector (upstream leaves some empty). */
export function toConnectorMessage(c: ConnectorView) {
  return {
    name: c.name,
    type: c.type,
    target: c.target,
    creationTime: timestamp(c.creationTimeMs),
    status: c.status,
    config: c.config,
    offsets: c.offsets.map((o) => toStructMessage(o)),
    taskId: c.taskId,
    node: c.node,
    dockerStatus: c.dockerStatus,
    image: c.image,
  };
}

export function connectorRoutes(ctx: ServerContext): RouteTable {
  const { connectors } = ctx;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    CreateConnector: async (req: { name: string; type: string; target: string; config: string }) =>
      toConnectorMessage(await connectors.create({ name: text(req.name), type: text(req.type), target: text(req.target), config: text(req.config) })),
    ListConnectors: () => ({ connectors: connectors.list().map(toConnectorMessage) }),
    GetConnector: (req: { name: string }) => toConnectorMessage(connectors.get(text(req.name))),
    GetConnectorSpec: (req: { type: string; target: string }) => ({ spec: connectors.spec(text(req.type), text(req.target)) }),
    GetConnectorLogs: (req: { name: string; begin: number; count: number }) => ({
      logs: connectors.logs(text(req.name), Number(req.begin) || 0, Number(req.count) || 0),
    }),
    DeleteConnector: async (req: { name: string }) => {
      await connectors.delete(text(req.name));
      return {};
    },
    PauseConnector: async (req: { name: string }) => {
      await connectors.pause(text(req.name));
      return {};
    },
    ResumeConnector: async (req: { name: string }) => {
      await connectors.resume(text(req.name));
      return {};
    },
    AlterConnectorConfig: async (req: { name: string; config: string }) => {
      await connectors.alterConfig(text(req.name), text(req.config));
      return {};
    },
  };
}
