import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Redactor } from '../domain/redact.js';

export interface LoggerSetup {
  level: LoggerOptions['level'];
  base: Record<string, unknown>;
  /** Read at each line, so a reloaded config's patterns apply at once. */
  redactor: () => Redactor;
  /** Default: stdout. */
  destination?: DestinationStream;
}

/**
 * The process logger: JSON lines, with PII masked in every logged object and
 * message string by the same redactor the cards and the audit trail use, so
 * an error carrying a request (or an email in its message) logs masked.
 */
export function createLogger(setup: LoggerSetup): Logger {
  const options: LoggerOptions = {
    level: setup.level,
    base: setup.base,
    formatters: { log: (obj) => setup.redactor().value(obj) },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? setup.redactor().text(a) : a));
        return method.apply(this, masked as Parameters<typeof method>);
      },
    },
  };
  return setup.destination ? pino(options, setup.destination) : pino(options);
}
