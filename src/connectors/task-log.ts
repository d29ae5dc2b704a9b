/**
 * A connector's own log, as GetConnectorLogs serves it: numbered lines
 * (1-based, counted since the server started) of which the last
 * `capacity` are kept, so a chatty failing target cannot grow memory.
 * Every line also goes to the server's pino log. Secrets are removed before
 * a line is kept.
 */
import type { Logger } from 'pino';

const DEFAULT_CAPACITY = 1000;

export type TaskLogLevel = 'INFO' | 'WARN' | 'ERROR';

export class TaskLog {
  readonly #lines: string[] = [];
  /** number of the first kept line */
  #first = 1;

  constructor(
    private readonly pino: Logger,
    private readonly redact: (text: string) => string,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  info(message: string): void {
    this.#add('INFO', message);
  }

  warn(message: string): void {
    this.#add('WARN', message);
  }

  error(message: string): void {
    this.#add('ERROR', message);
  }

  #add(level: TaskLogLevel, message: string): void {
    const text = this.redact(message);
    const line = `${new Date().toISOString()} ${level} ${text.replace(/\r?\n/g, ' ')}`;
    this.#lines.push(line);
    if (this.#lines.length > this.capacity) {
      this.#lines.shift();
      this.#first++;
    }
    const pinoLevel = level === 'INFO' ? 'info' : level === 'WARN' ? 'warn' : 'error';
    this.pino[pinoLevel](text);
  }

  /** Lines begin … begin+count-1, each ending in "\n"; "" when the range holds none. */
  read(begin: number, count: number): string {
    if (begin < 1 || count < 1) return '';
    const from = Math.max(begin, this.#first) - this.#first;
    const to = Math.min(begin + count - this.#first, this.#lines.length);
    if (from >= to) return '';
    return this.#lines.slice(from, to).map((l) => `${l}\n`).join('');
  }
}
