/** Embeddable API: start an hstreamlite node from code (e.g. another project's test suite). */
export { startServer, VERSION } from './server.js';
export type { RunningServer, StartOptions } from './server.js';
export { DEFAULTS, loadConfig } from './config.js';
export type { Config } from './config.js';
export { PROTO_PATH, hstreamApiClient } from './proto.js';
