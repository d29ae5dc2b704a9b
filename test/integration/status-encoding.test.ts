/**
 * Regression (Erlang hstreamdb_erl via grpc-erl): the JSON error body must reach clients that do not
 * percent-decode grpc-message, so only '%' and bytes outside printable ASCII may be escaped.
 */
import { connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.destroy());

/** A raw gRPC call over HTTP/2, returning the trailers as sent on the wire. */
function rawCall(path: string, message: Buffer): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${t.server.address}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    req.end(frame);
    req.on('data', () => undefined);
    const done = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] === undefined) return;
      resolve(headers);
      session.close();
    };
    // an error without messages comes as trailers-only: the status is in the response headers
    req.on('response', done);
    req.on('trailers', done);
    req.on('error', reject);
  });
}

describe('grpc-message encoding', () => {
  it('sends the JSON error body unescaped, escaping only % and non-printable bytes', async () => {
    // GetStream{name = "nope"}: field 1, length-delimited
    const trailers = await rawCall('/hstream.server.HStreamApi/GetStream', Buffer.from([0x0a, 4, ...Buffer.from('nope')]));
    expect(trailers['grpc-status']).toBe(String(status.NOT_FOUND));
    expect(trailers['grpc-message']).toBe('{"error":200,"message":"StreamNotFound","extra":"nope"}');
  });

  it('still round-trips non-ASCII and % through a decoding client', async () => {
    const f = await expectFailure(t.client.unary('GetStream', { name: 'ünï%' }), status.INVALID_ARGUMENT, 204);
    expect(f.body!.message).toBe('InvalidObjectIdentifier');
    const g = await expectFailure(t.client.unary('GetStream', { name: 'ünïcode' }), status.NOT_FOUND, 200);
    expect(g.body!.extra).toBe('ünïcode');
  });
});

describe('statuses for hostile requests (reliability suite findings)', () => {
  it('answers bytes that are not the expected message with INVALID_ARGUMENT, not INTERNAL', async () => {
    // a lone tag byte with nothing after it: protobufjs refuses to decode it
    const trailers = await rawCall('/hstream.server.HStreamApi/GetStream', Buffer.from([0x0f]));
    expect(trailers['grpc-status']).toBe(String(status.INVALID_ARGUMENT));
    const bidi = await rawCall('/hstream.server.HStreamApi/StreamingFetch', Buffer.from([0x0f]));
    expect(bidi['grpc-status']).toBe(String(status.INVALID_ARGUMENT));
  });

  it.each(['GetSubscription', 'GetQuery', 'GetView'])('answers %s with a 100 KB id, quoting only a bounded part of it', async (rpc) => {
    const huge = 'x'.repeat(100_000);
    const req = rpc === 'GetSubscription' ? { id: huge } : rpc === 'GetQuery' ? { id: huge } : { viewId: huge };
    const f = await expectFailure(t.client.unary(rpc, req, { deadlineMs: 5000 }), status.NOT_FOUND);
    expect(f.details.length).toBeLessThan(2000);
    expect(await t.client.unary('Echo', { msg: 'still serving' })).toEqual({ msg: 'still serving' });
  });
});
