/** What the store logs through: a pino logger fits; storage/ does not depend on pino itself. */
export interface StoreLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export const silentLogger: StoreLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
};
