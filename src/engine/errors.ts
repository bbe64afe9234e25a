/**
 * One error base class for the whole platform. `code` is stable and machine-readable,
 * `hint` tells the user what to do next; `exitCode` is what a CLI command exits with.
 */
export class QtradeError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number = 1;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad input from the user: CLI arguments, config values, files. Exit 2. */
export class UsageError extends QtradeError {
  override readonly exitCode = 2;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('USAGE', message, options);
  }
}

/** An order or request refused by a rule (exchange filter, risk limit). Exit 3. */
export class RejectedError extends QtradeError {
  override readonly exitCode = 3;
}

/** The venue (Binance or a daemon) failed or answered with an error. Exit 4. */
export class VenueError extends QtradeError {
  override readonly exitCode = 4;
  readonly status: number | undefined;
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown; status?: number } = {}) {
    super(code, message, options);
    this.status = options.status;
  }
}

/** A payload that does not match the documented format (exchange frame, file row). */
export class ParseError extends QtradeError {
  override readonly exitCode = 2;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('PARSE', message, options);
  }
}

/** A store (SQLite, PostgreSQL) failure. */
export class StoreError extends QtradeError {
  override readonly exitCode = 5;
}
