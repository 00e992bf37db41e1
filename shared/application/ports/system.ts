/** Time, injectable so tests can pin it. */
export interface Clock {
  now(): Date;
}

/** New ids, injectable so tests can predict them. */
export interface IdGenerator {
  next(): string;
}

/** Where diagnostics go: the console as JSON lines, which the Functions host forwards to its log. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
}
