/**
 * --tls-ca / --tls-key / --tls-cert, hstreams:// and --token, against a
 * small TLS gRPC server that answers ListStreams (our server's TLS is not
 * the CLI's concern; the CLI must build the right channel credentials and
 * metadata). Certificates are made with the openssl command at test time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hstreamApiDefinition } from '../../src/proto.js';
import { tempDir } from '../helpers/server.js';
import { oneErrorLine, runCli } from './cli-harness.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let dir = '';
const pem = (name: string) => join(dir, name);
let server: grpc.Server;
let port = 0;
const seenAuthorization: Array<string | undefined> = [];

function makeCert(name: string, subject: string): void {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', subject, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', pem(`${name}.key`), '-out', pem(`${name}.crt`)],
    { stdio: 'ignore' },
  );
}

describe.skipIf(!hasOpenssl())('TLS and token', () => {
  beforeAll(async () => {
    dir = tempDir('hstream-cli-tls-');
    makeCert('server', '/CN=hstream-test-server');
    makeCert('client', '/CN=hstream-test-client');
    server = new grpc.Server();
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(hstreamApiDefinition())) {
      impl[name] = (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED, details: name });
    }
    impl['ListStreams'] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const auth = call.metadata.get('authorization')[0];
      seenAuthorization.push(auth === undefined ? undefined : String(auth));
      callback(null, { streams: [{ streamName: 'secure', replicationFactor: 1, backlogDuration: 60, shardCount: 1 }] });
    };
    server.addService(hstreamApiDefinition(), impl);
    // client certificates are checked: only a client presenting client.crt gets in
    const credentials = grpc.ServerCredentials.createSsl(
      readFileSync(pem('client.crt')),
      [{ private_key: readFileSync(pem('server.key')), cert_chain: readFileSync(pem('server.crt')) }],
      true,
    );
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.tryShutdown(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tls = () => ['--tls-ca', pem('server.crt'), '--tls-key', pem('client.key'), '--tls-cert', pem('client.crt')];

  it('hstreams:// with CA, key and certificate talks TLS and sends the token as Basic authorization', async () => {
    const r = await runCli([...tls(), '--token', 's3cret', '--service-url', `hstreams://127.0.0.1:${port}`, 'stream', 'list']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[3]).toBe('| secure      | 1       | 60 seconds     | 1           |');
    expect(seenAuthorization.at(-1)).toBe('Basic s3cret');
  });

  it('TLS flags apply to --host/--port too; no token, no authorization header', async () => {
    const r = await runCli([...tls(), '--port', String(port), 'stream', 'list']);
    expect(r.code).toBe(0);
    expect(seenAuthorization.at(-1)).toBeUndefined();
  });

  it('a server certificate the CA does not vouch for is refused with one line', async () => {
    const r = await runCli(['--tls-ca', pem('client.crt'), '--tls-key', pem('client.key'), '--tls-cert', pem('client.crt'), '--port', String(port), '--retry-timeout', '0', 'stream', 'list']);
    expect(r.code).toBe(1);
    oneErrorLine(r);
  });

  it('a plain-text client cannot talk to the TLS server', async () => {
    const r = await runCli(['--port', String(port), '--retry-timeout', '0', 'stream', 'list']);
    expect(r.code).toBe(1);
    oneErrorLine(r);
  });
});
