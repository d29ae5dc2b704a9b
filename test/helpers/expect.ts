/** Assertions on gRPC failures: the status code and, where upstream sends one, the JSON error code. */
import { status } from '@grpc/grpc-js';
import { expect } from 'vitest';

export { status };

export interface GrpcFailure {
  code: number;
  details: string;
  body?: { error: number; message: string; extra: unknown };
}

export async function failure(promise: Promise<unknown>): Promise<GrpcFailure> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code: number; details: string };
    let body: GrpcFailure['body'];
    try {
      body = JSON.parse(e.details) as GrpcFailure['body'];
    } catch {
      body = undefined;
    }
    return { code: e.code, details: e.details, body };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Fails unless the call ends with `code` and (when given) JSON error `errorCode`; `null` demands plain text. */
export async function expectFailure(promise: Promise<unknown>, code: number, errorCode?: number | null): Promise<GrpcFailure> {
  const f = await failure(promise);
  expect({ code: f.code, details: f.details }).toMatchObject({ code });
  if (errorCode === null) expect(f.body, `expected plain text, got ${f.details}`).toBeUndefined();
  else if (errorCode !== undefined) expect(f.body?.error, f.details).toBe(errorCode);
  return f;
}
