import { expect } from 'vitest';
import { UsageError } from '../../src/engine/errors.js';

/** Runs fn, expects it to throw a UsageError, and returns it for further checks. */
export function expectUsageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}
