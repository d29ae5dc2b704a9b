/** /v1/connectors: status, last error, pause / resume, logs; over the connector manager, as the gRPC handlers. */
import type { ServerContext } from '../context.js';
import type { ConnectorView } from '../connectors/view.js';
import { validateName } from '../core/names.js';
import { wholeNumberParam } from './fields.js';
import type { HttpHandler } from './handler.js';
import type { Router } from './router.js';

function connectorJson(c: ConnectorView) {
  return {
    name: c.name,
    type: c.type,
    target: c.target,
    status: c.status,
    created_ms: c.creationTimeMs,
    // the task's state with its last error ("dockerStatus" upstream)
    task_status: c.dockerStatus,
    config: c.config,
    offsets: c.offsets,
  };
}

export function addConnectorRoutes(router: Router<HttpHandler>, ctx: ServerContext): void {
  const { connectors } = ctx;
  const name = (value: string | undefined) => validateName('connector', value);
  router
    .add('GET', '/v1/connectors', () => ({ status: 200, body: connectors.list().map(connectorJson) }))
    .add('GET', '/v1/connectors/:name', (req) => ({ status: 200, body: connectorJson(connectors.get(name(req.params.name))) }))
    .add('GET', '/v1/connectors/:name/logs', (req) => ({
      status: 200,
      body: { logs: connectors.logs(name(req.params.name), wholeNumberParam(req.query, 'begin', 0), wholeNumberParam(req.query, 'count', 100)) },
    }))
    .add('POST', '/v1/connectors/:name/pause', async (req) => {
      await connectors.pause(name(req.params.name));
      return { status: 200, body: {} };
    })
    .add('POST', '/v1/connectors/:name/resume', async (req) => {
      await connectors.resume(name(req.params.name));
      return { status: 200, body: {} };
    });
}
