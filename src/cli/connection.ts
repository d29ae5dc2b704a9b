/**
 * Where the CLI connects and how: --host/--port or --service-url
 * (hstream:// or hstreams://), TLS files, the optional token, waiting for the
 * server (--retry-timeout), and turning gRPC failures into one readable line.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { HStreamClient, type Message } from '../client.js';
import { CliError, intOption, stringOption, UsageError, type OptionValues } from './args.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 6570;
export const DEFAULT_RETRY_TIMEOUT_SECONDS = 60;

export interface Target {
  host: string;
  port: number;
  /** host:port as grpc-js wants it (IPv6 in brackets) */
  address: string;
  tls?: { ca?: Buffer; key?: Buffer; cert?: Buffer };
  token?: string;
  retryTimeoutSeconds: number;
}

function readPem(path: string | undefined, flag: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read the file given to --${flag}: ${(err as Error).message}`);
  }
}

/** The target named by the global flags; --service-url wins over --host/--port, as upstream. */
export function resolveTarget(values: OptionValues): Target {
  let host = stringOption(values, 'host') ?? DEFAULT_HOST;
  let port = intOption(values, 'port', DEFAULT_PORT, 0, 65535);
  const retryTimeoutSeconds = intOption(values, 'retry-timeout', DEFAULT_RETRY_TIMEOUT_SECONDS, 0, 2_147_483);
  const caPath = stringOption(values, 'tls-ca');
  const keyPath = stringOption(values, 'tls-key');
  const certPath = stringOption(values, 'tls-cert');
  if (keyPath !== undefined && certPath === undefined) throw new UsageError('got `tls-key`, but `tls-cert` is missing');
  if (certPath !== undefined && keyPath === undefined) throw new UsageError('got `tls-cert`, but `tls-key` is missing');
  const wantsTls = caPath !== undefined || keyPath !== undefined;

  const url = stringOption(values, 'service-url');
  if (url !== undefined) {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?\/?$/.exec(url);
    if (!m) throw new UsageError(`invalid --service-url '${url}' (expected hstream://host:port)`);
    const scheme = m[1]!.toLowerCase();
    if (scheme !== 'hstream' && scheme !== 'hstreams') throw new UsageError(`Unsupported URI scheme '${scheme}' in --service-url (use hstream:// or hstreams://)`);
    if (scheme === 'hstreams' && !wantsTls) throw new UsageError('Tls certificates are not provided (hstreams:// needs --tls-ca, or --tls-key and --tls-cert)');
    host = m[2]!.replace(/^\[(.*)\]$/, '$1');
    if (host === '') throw new UsageError(`Incomplete URI '${url}': no host`);
    if (m[3]) port = intOption({ port: m[3] }, 'port', port, 0, 65535);
  }
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const tls = wantsTls ? { ca: readPem(caPath, 'tls-ca'), key: readPem(keyPath, 'tls-key'), cert: readPem(certPath, 'tls-cert') } : undefined;
  return { host, port, address, tls, token: stringOption(values, 'token'), retryTimeoutSeconds };
}

interface GrpcFailure {
  code?: number;
  details?: string;
}

function isGrpcFailure(err: unknown): err is GrpcFailure & Error {
  return err instanceof Error && typeof (err as GrpcFailure).code === 'number';
}

/**
 * One line for a failed call. Upstream's JSON error body becomes
 * `message: extra`; plain-text statuses are shown as sent; a server that
 * cannot be reached says so with the address.
 */
export function describeFailure(err: unknown, address: string): string {
  if (!isGrpcFailure(err)) return err instanceof Error ? err.message : String(err);
  // grpc-js appends an empty "Resolution note: " to connection failures
  const details = (err.details ?? err.message).replace(/\s*Resolution note:\s*$/, '');
  try {
    const body = JSON.parse(details) as { error?: unknown; message?: unknown; extra?: unknown };
    if (body && typeof body === 'object' && typeof body.message === 'string') {
      // A refused connector config (604) carries the check result: say what was expected, not its JSON.
      const check = body.extra as { crtMessage?: unknown; crtDetail?: unknown } | null;
      if (check && typeof check === 'object' && typeof check.crtDetail === 'string') return `${body.message}: ${String(check.crtMessage)}: ${check.crtDetail}`;
      const extra = body.extra === null || body.extra === undefined || body.extra === '' ? '' : typeof body.extra === 'string' ? body.extra : JSON.stringify(body.extra);
      return extra ? `${body.message}: ${extra}` : body.message;
    }
  } catch {
    // plain text
  }
  if (err.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED|connect/i.test(details)) {
    return `cannot reach the server at ${address}: ${details}`;
  }
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return `the server at ${address} did not answer in time: ${details}`;
  return details || grpc.status[err.code!] || 'unknown error';
}

/** A connected HStreamApi client whose failures are CliErrors. */
export class Connection {
  readonly client: HStreamClient;
  private readied = false;

  constructor(
    readonly target: Target,
    private readonly stderr: NodeJS.WritableStream,
  ) {
    const credentials = target.tls
      ? grpc.credentials.createSsl(target.tls.ca ?? null, target.tls.key ?? null, target.tls.cert ?? null)
      : grpc.credentials.createInsecure();
    const options: grpc.ClientOptions = {};
    if (target.token !== undefined) {
      const authorization = `Basic ${target.token}`;
      options.interceptors = [
        (callOptions, nextCall) =>
          new grpc.InterceptingCall(nextCall(callOptions), {
            start(metadata, listener, next) {
              metadata.set('authorization', authorization);
              next(metadata, listener);
            },
          }),
      ];
    }
    this.client = new HStreamClient(target.address, credentials, options);
  }

  /** Waits up to --retry-timeout for the channel to connect, like upstream's "Waiting for server to start...". */
  async ready(): Promise<void> {
    if (this.readied) return;
    this.readied = true;
    const timeoutMs = this.target.retryTimeoutSeconds * 1000;
    if (timeoutMs <= 0) return; // the first call fails at once if nobody listens
    const channel = this.client.raw.getChannel();
    const deadline = Date.now() + timeoutMs;
    let announced = false;
    for (;;) {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return;
      if (state === grpc.connectivityState.SHUTDOWN) throw new CliError(`the connection to ${this.target.address} was closed`);
      if (state === grpc.connectivityState.TRANSIENT_FAILURE && !announced) {
        this.stderr.write('Waiting for server to start...\n');
        announced = true;
      }
      if (Date.now() >= deadline) {
        throw new CliError(
          `Connection timed out after ${this.target.retryTimeoutSeconds} s. Please check the server URI (${this.target.address}) and try again.`,
        );
      }
      await new Promise<void>((resolve) => channel.watchConnectivityState(state, Math.min(deadline, Date.now() + 1000), () => resolve()));
    }
  }

  async unary<Res = Message>(name: string, request: Message = {}): Promise<Res> {
    await this.ready();
    try {
      return await this.client.unary<Res>(name, request);
    } catch (err) {
      throw new CliError(describeFailure(err, this.target.address), { cause: err });
    }
  }

  /** A server stream; the caller iterates it and passes failures through `describeFailure`. */
  async serverStream<Res = Message>(name: string, request: Message = {}): Promise<grpc.ClientReadableStream<Res>> {
    await this.ready();
    return this.client.serverStream<Res>(name, request);
  }

  close(): void {
    this.client.close();
  }
}
