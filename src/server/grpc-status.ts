/** The gRPC edge's reading of an error kind: one table, used for every reply. */
import { status } from '@grpc/grpc-js';
import type { ErrorKind, HStreamError } from '../errors.js';

const GRPC_STATUS: Record<ErrorKind, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unimplemented: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
  data_loss: status.DATA_LOSS,
};

export function grpcStatusOf(err: HStreamError): status {
  return GRPC_STATUS[err.kind];
}
