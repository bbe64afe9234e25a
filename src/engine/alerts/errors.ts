import { UsageError } from '../errors.js';

export const CONDITION_FORMS = [
  'price > 70000',
  'price crosses below 60000',
  'change 5m > 2%',
  'close 1h > 65000',
  'rsi(14, 5m) < 30',
  'sma(20, 1h) crosses above sma(50, 1h)',
  'volume 1m > 3x avg(20)',
  'spread > 5 ticks',
  'filled',
  'partially filled',
  'rejected',
  'pnl BTCUSDT < -100',
  'risk halted',
  'feed down > 30s',
  'candle mismatch',
];

/**
 * A condition that does not parse: the message names what was expected and shows the condition
 * with a caret under the bad token, so the fix is obvious without reading the grammar.
 */
export class ConditionError extends UsageError {
  /** 1-based column of the bad token. */
  readonly column: number;
  readonly condition: string;
  readonly reason: string;

  constructor(reason: string, condition: string, pos: number, length: number) {
    const caret = ' '.repeat(pos) + '^'.repeat(Math.max(1, length));
    super(`bad condition: ${reason} at column ${pos + 1}\n  ${condition}\n  ${caret}`, {
      hint: `conditions look like: ${CONDITION_FORMS.map((f) => `"${f}"`).join(', ')}`,
    });
    this.column = pos + 1;
    this.condition = condition;
    this.reason = reason;
  }

  /** The condition and the caret line, for UIs that print the reason apart. */
  get pointer(): string {
    return `${this.condition}\n${' '.repeat(this.column - 1)}^`;
  }
}
