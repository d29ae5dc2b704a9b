/**
 * The `blackhole` sink (upstream has one too): takes every record and keeps
 * none. Useful to measure the connector runtime alone and to try the
 * connector statements without a database.
 */
import type { SinkDriver } from './driver.js';

export const blackholeSink: SinkDriver = {
  target: 'blackhole',
  spec: {
    title: 'sink-blackhole',
    description: 'discards every record it reads (for trying connectors and measuring the runtime)',
    properties: {},
    required: [],
    'ui:order': [],
  },
  secretKeys: [],
  async check() {},
  async open() {
    return {
      async write() {},
      async close() {},
    };
  },
};
