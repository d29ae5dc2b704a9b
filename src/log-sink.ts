/**
 * Where the server's log lines go: a file descriptor (stderr), written asynchronously, bounded,
 * and never able to hold up the process.
 *
 * pino's default destination (sonic-boom) retries a failed synchronous flush forever, sleeping on
 * the main thread between tries; pino runs that flush at exit. Once the reader of our stderr is
 * gone (a harness that read the listening line and closed the pipe), every write fails with EPIPE,
 * so exiting never finished and no later signal could be handled. Logging is best effort: a
 * broken descriptor ends logging, a reader that does not keep up loses lines (counted), and
 * nothing waits on a write except an explicit, bounded `flush`.
 */
import { write as fsWrite } from 'node:fs';

/** Lines waiting for the descriptor beyond this are dropped: a stalled reader must not grow the heap. */
export const MAX_PENDING_LOG_BYTES = 1024 * 1024;

export class LogSink {
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing = false;
  private broken = false;
  private waiters: Array<() => void> = [];
  /** lines dropped because the reader fell behind (or the descriptor broke) */
  dropped = 0;

  constructor(private readonly fd: number) {}

  /** pino's destination contract: one serialized line per call */
  write(line: string): boolean {
    if (this.broken || this.pendingBytes + line.length > MAX_PENDING_LOG_BYTES) {
      this.dropped++;
      return true;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (!this.writing) this.writeNext();
    return true;
  }

  /** Resolves once what was logged so far is written, the descriptor broke, or `timeoutMs` passed. */
  drain(timeoutMs: number): Promise<void> {
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private writeNext(): void {
    if (this.pending.length === 0) {
      this.writing = false;
      for (const wake of this.waiters.splice(0)) wake();
      return;
    }
    this.writing = true;
    const chunk = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    this.writeChunk(chunk);
  }

  private writeChunk(chunk: Buffer): void {
    fsWrite(this.fd, chunk, (err, written) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          // a non-blocking descriptor that is full: try again shortly instead of spinning
          setTimeout(() => this.writeChunk(chunk), 50).unref();
          return;
        }
        // EPIPE, EBADF, EIO…: nobody will read what we write from now on
        this.broken = true;
        this.dropped += this.pending.length + 1;
        this.pending = [];
        this.pendingBytes = 0;
      } else if (written < chunk.length) {
        this.writeChunk(chunk.subarray(written));
        return;
      }
      this.writeNext();
    });
  }
}
