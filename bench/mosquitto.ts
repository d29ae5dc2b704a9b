/**
 * A real Mosquitto broker for tests and the bench: a temp config on a free
 * 127.0.0.1 port, anonymous access, persistence in its temp dir (so
 * stopServer()/startServer() keep sessions and queued messages, as a broker
 * restart does), run as the unprivileged user, removed by stop().
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { canDropPrivileges, dbTempDir, freePort, giveToDbUser, serverControls, spawnAsDbUser, waitUntilReady, type ServerControls } from './db-process.js';

export { freePort };

const MOSQUITTO = '/usr/sbin/mosquitto';

/** Why the MQTT tests cannot run here, or undefined when they can. */
export const mosquittoUnavailable: string | undefined = !existsSync(MOSQUITTO)
  ? `${MOSQUITTO} not found (apt-get install mosquitto)`
  : !canDropPrivileges()
    ? 'running as root without setpriv: the broker would run as root'
    : undefined;

if (mosquittoUnavailable && process.env['VITEST']) console.warn(`[mosquitto helper] skipping: ${mosquittoUnavailable}`);

export interface TestMosquitto extends ServerControls {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** mqtt://127.0.0.1:<port>, mqtts:// with TLS */
  readonly url: string;
  /** the broker's log (notices included: each connect names the client's protocol: "p2" for MQTT 3.1.1, "p5" for MQTT 5) */
  readonly logFile: string;
}

/** PEM files for a TLS listener that requires a client certificate signed by `ca`. */
export interface MosquittoTls {
  ca: string;
  cert: string;
  key: string;
}

export async function startMosquitto(options: { tls?: MosquittoTls } = {}): Promise<TestMosquitto> {
  if (mosquittoUnavailable) throw new Error(mosquittoUnavailable);
  const dir = dbTempDir('hstreamlite-mqtt-');
  // the broker user cannot read the caller's files: it gets its own copies
  const tlsLines: string[] = [];
  if (options.tls) {
    for (const [name, from] of Object.entries(options.tls)) {
      const to = join(dir, `${name}.pem`);
      copyFileSync(from, to);
      giveToDbUser(to);
    }
    tlsLines.push(`cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'cert.pem')}`, `keyfile ${join(dir, 'key.pem')}`, 'require_certificate true');
  }
  const port = await freePort();
  const logFile = join(dir, 'broker.log');
  const configFile = join(dir, 'mosquitto.conf');
  // Queues sized for the tests' bursts: the default (1000 queued per offline client) would drop
  // messages a test publishes while its connector is away, which is the broker's loss, not ours.
  writeFileSync(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      ...tlsLines,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 1000000',
      'max_queued_bytes 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      '',
    ].join('\n'),
  );
  giveToDbUser(configFile);

  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawnAsDbUser([MOSQUITTO, '-c', configFile], dir, logFile);
    const running = child;
    await waitUntilReady('mosquitto', running, logFile, () => probe(port));
  };
  await launch();
  const url = `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`;
  return { host: '127.0.0.1', port, url, logFile, ...serverControls(() => child, launch, 'SIGTERM', dir) };
}

/** Resolves once the port accepts a connection. */
function probe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
