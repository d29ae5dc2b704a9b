import { readFileSync, rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { expectFailure, status } from '../helpers/expect.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

const tlsClient = (address: string, withClientCert: boolean) =>
  new HStreamClient(
    address,
    grpc.credentials.createSsl(
      readFileSync(certs.ca),
      withClientCert ? readFileSync(certs.clientKey) : null,
      withClientCert ? readFileSync(certs.clientCert) : null,
    ),
  );

describe('TLS', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ enableTls: true, tlsCertPath: certs.serverCert, tlsKeyPath: certs.serverKey });
  });
  afterAll(() => t.destroy());

  it('serves clients that trust the CA, and advertises hstreams://', async () => {
    const client = tlsClient(t.server.address, false);
    expect(await client.unary('Echo', { msg: 'secure' }, { deadlineMs: 5000 })).toEqual({ msg: 'secure' });
    expect(t.server.url.startsWith('hstreams://')).toBe(true);
    client.close();
  });

  it('refuses a plain-text client', async () => {
    const f = await expectFailure(t.client.unary('Echo', { msg: 'plain' }, { deadlineMs: 3000 }), status.UNAVAILABLE);
    expect(f.code).toBe(status.UNAVAILABLE);
  });
});

describe('TLS with client certificates required', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ enableTls: true, tlsCertPath: certs.serverCert, tlsKeyPath: certs.serverKey, tlsCaPath: certs.ca });
  });
  afterAll(() => t.destroy());

  it('serves a client with a certificate signed by the CA', async () => {
    const client = tlsClient(t.server.address, true);
    expect(await client.unary('Echo', { msg: 'mtls' }, { deadlineMs: 5000 })).toEqual({ msg: 'mtls' });
    client.close();
  });

  it('refuses a client without a certificate', async () => {
    const client = tlsClient(t.server.address, false);
    await expectFailure(client.unary('Echo', { msg: 'x' }, { deadlineMs: 3000 }), status.UNAVAILABLE);
    client.close();
  });
});

describe('TLS configuration', () => {
  it('refuses to start without a key or with an unreadable certificate', async () => {
    await expect(startTestServer({ enableTls: true, tlsCertPath: certs.serverCert })).rejects.toThrow(/--tls-key-path/);
    await expect(startTestServer({ enableTls: true, tlsCertPath: '/nonexistent.pem', tlsKeyPath: certs.serverKey })).rejects.toThrow(/cannot read the TLS certificate/);
  });
});
