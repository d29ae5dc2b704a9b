/**
 * The server's components in one ordered list: each loads in order at start
 * and closes in reverse order at shutdown, so what depends on another part
 * (subscriptions on streams, queries on both) is up after it and down before
 * it, and a component added later (connectors) has one place to go.
 */
import type { Logger } from 'pino';

export interface Component {
  readonly name: string;
  /** reads persisted state; runs in registration order */
  load?(): Promise<void>;
  /** starts background work once everything is loaded */
  start?(): void;
  /** stops and persists; runs in reverse registration order */
  close?(): Promise<void>;
}

export class Lifecycle {
  readonly #components: Component[] = [];
  #started = 0;

  constructor(private readonly log: Logger) {}

  register(component: Component): this {
    this.#components.push(component);
    return this;
  }

  async load(): Promise<void> {
    for (const c of this.#components) {
      await c.load?.();
      this.#started++;
    }
  }

  start(): void {
    for (const c of this.#components) c.start?.();
  }

  /**
   * Closes what was loaded, last first. A component that fails to close is
   * logged and the others still close: the store below them must still get
   * their final writes.
   */
  async close(): Promise<void> {
    for (const c of this.#components.slice(0, this.#started).reverse()) {
      try {
        await c.close?.();
      } catch (err) {
        this.log.error({ err, component: c.name }, 'component failed to close');
      }
    }
    this.#started = 0;
  }
}
