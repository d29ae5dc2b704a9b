/**
 * The connectors of this node: create, list, pause, resume, alter, delete,
 * persisted in the meta store and restarted with the server.
 */
import type { ConnectorView } from './view.js';
import { unimplemented } from '../errors.js';

export interface NewConnector {
  name: string;
  /** as sent: upper-cased, must be SOURCE or SINK */
  type: string;
  target: string;
  /** JSON object text */
  config: string;
}

export class ConnectorManager {
  async create(_req: NewConnector): Promise<ConnectorView> {
    throw unimplemented('connectors are being built');
  }
  list(): ConnectorView[] {
    return [];
  }
  get(_name: string): ConnectorView {
    throw unimplemented('connectors are being built');
  }
  /** JSON Schema text of a type's config */
  spec(_type: string, _target: string): string {
    throw unimplemented('connectors are being built');
  }
  /** lines begin..begin+count-1 (1-based) of the connector's log, each ending in "\n" */
  logs(_name: string, _begin: number, _count: number): string {
    throw unimplemented('connectors are being built');
  }
  /** unknown names succeed, as upstream */
  async delete(_name: string): Promise<void> {}
  async pause(_name: string): Promise<void> {}
  async resume(_name: string): Promise<void> {}
  async alterConfig(_name: string, _config: string): Promise<void> {}
}
