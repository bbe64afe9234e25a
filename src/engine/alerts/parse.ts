import { INTERVALS, type Interval } from '../candles/types.js';
import { isInterval } from '../candles/intervals.js';
import { QtradeError } from '../errors.js';
import { parseFixed, parseFixedBig } from '../fixed.js';
import { closeMatches } from '../market/instruments.js';
import type { Instrument } from '../market/types.js';
import { AMOUNT_SCALE } from '../orders/types.js';
import type { Cmp, Condition, Decimal, IndicatorName, LevelCmp, SeriesLevel, SeriesRef } from './condition.js';
import { ConditionError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

/**
 * The condition language, by recursive descent:
 *
 *   condition := 'price' cmp PRICE
 *              | 'change' DURATION lcmp SIGNED '%'
 *              | series cmp (PRICE | series)            series := 'close' INTERVAL | IND '(' INT ',' INTERVAL ')'
 *              | 'volume' INTERVAL lcmp (QTY | MULT 'x' 'avg' '(' INT ')')
 *              | 'spread' lcmp (N 'ticks' | PRICE)
 *              | 'filled' | 'partially' 'filled' | 'rejected'
 *              | 'pnl' [SYMBOL] cmp SIGNED
 *              | 'risk' ('halted' | 'reducing' | 'active' | 'changed')
 *              | 'feed' 'down' ('>' | '>=') DURATION
 *              | 'candle' 'mismatch'
 *   cmp  := '>' | '>=' | '<' | '<=' | 'crosses' ('above' | 'below')      lcmp: without crossings
 *
 * Keywords are case-insensitive. Prices must be exact at the symbol's tick decimals, quantities at
 * its step decimals: a level that cannot be represented is refused, never rounded.
 */

export interface ParseContext {
  /** The alert's symbol; undefined for an alert on any symbol ('*'), which allows account conditions only. */
  instrument: Instrument | undefined;
  /** Resolves a symbol a condition names (pnl ETHUSDT < -50); undefined when unknown. */
  lookup?: (symbol: string) => Instrument | undefined;
  /** Known symbols, for "did you mean". */
  symbols?: () => string[];
}

const INDICATORS: readonly IndicatorName[] = ['rsi', 'sma', 'ema'];
const NUMBER_RE = /^(\d+(\.\d+)?|\.\d+)$/;
const DURATION_RE = /^(\d+(ms|s|m|h|d))+$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The longest `change` window: the reference prices are kept per second for this long. */
export const MAX_CHANGE_WINDOW_MS = 86_400_000;
const MAX_PERIOD = 1000;

/** "0.01000000" → "0.01", as people write a tick size. */
function step(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export function parseCondition(text: string, ctx: ParseContext): Condition {
  return new Parser(text, ctx).condition();
}

class Parser {
  private readonly toks: Token[];
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly ctx: ParseContext,
  ) {
    this.toks = tokenize(text);
  }

  condition(): Condition {
    const t = this.peek();
    if (t.kind === 'end') throw this.fail(t, 'empty condition: say what to watch, e.g. "price > 70000"');
    if (t.kind !== 'word') throw this.fail(t, `a condition starts with a word such as price, change, close, rsi, volume, spread, filled, pnl, risk or feed, not "${t.text}"`);
    let c: Condition;
    switch (t.lower) {
      case 'price':
        c = this.price();
        break;
      case 'change':
        c = this.change();
        break;
      case 'close':
      case 'rsi':
      case 'sma':
      case 'ema':
        c = this.seriesCondition();
        break;
      case 'volume':
        c = this.volume();
        break;
      case 'spread':
        c = this.spread();
        break;
      case 'filled':
      case 'rejected':
        this.next();
        c = { kind: 'order', event: t.lower };
        break;
      case 'partially':
        this.next();
        this.keyword(['filled'], 'after "partially"');
        c = { kind: 'order', event: 'partially filled' };
        break;
      case 'pnl':
        c = this.pnl();
        break;
      case 'risk':
        c = this.risk();
        break;
      case 'feed':
        c = this.feed();
        break;
      case 'candle':
        this.next();
        this.keyword(['mismatch'], 'after "candle"');
        this.needSymbol(t, 'candle mismatch');
        c = { kind: 'candle-mismatch' };
        break;
      default: {
        const near = closeMatches(t.lower, ['price', 'change', 'close', 'rsi', 'sma', 'ema', 'volume', 'spread', 'filled', 'partially', 'rejected', 'pnl', 'risk', 'feed', 'candle'], 2);
        throw this.fail(t, `unknown condition "${t.text}"${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}`);
      }
    }
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.fail(rest, `unexpected "${rest.text}" after a complete condition`);
    return c;
  }

  // ------------------------------------------------------------------ productions

  private price(): Condition {
    const kw = this.next();
    const inst = this.needSymbol(kw, 'price');
    const cmp = this.cmp(true);
    const level = this.priceLevel(inst);
    return { kind: 'price', cmp, level: level.raw };
  }

  private change(): Condition {
    const kw = this.next();
    this.needSymbol(kw, 'change');
    const w = this.duration('a window such as 5m or 1h');
    if (w.ms < 1000 || w.ms > MAX_CHANGE_WINDOW_MS) throw this.fail(w.tok, 'the change window must be from 1s to 24h');
    const cmp = this.cmp(false) as LevelCmp;
    const pct = this.signedDecimal('a percentage such as 2%');
    const p = this.peek();
    if (p.text !== '%') throw this.fail(p, 'expected "%" after the percentage (change compares per cent)');
    this.next();
    return { kind: 'change', windowMs: w.ms, cmp, pct };
  }

  private seriesCondition(): Condition {
    const first = this.peek();
    const inst = this.needSymbol(first, first.lower === 'close' ? 'close' : first.lower);
    const left = this.series();
    const cmp = this.cmp(true);
    const t = this.peek();
    let right: SeriesRef | SeriesLevel;
    if (t.kind === 'word' && (t.lower === 'close' || (INDICATORS as readonly string[]).includes(t.lower))) {
      right = this.series();
      if (left.kind === 'rsi' && right.kind !== 'rsi') throw this.fail(t, 'RSI is 0..100 and compares with a number or another RSI, not a price');
      if (left.kind !== 'rsi' && right.kind === 'rsi') throw this.fail(t, 'a price compares with a level or a moving average, not an RSI (0..100)');
    } else if (left.kind === 'rsi') {
      const d = this.decimalToken('an RSI level from 0 to 100');
      const value = Number(d.text);
      if (value > 100) throw this.fail(d.tok, 'RSI runs from 0 to 100');
      right = { kind: 'level', raw: undefined, value, text: d.text };
    } else {
      const lv = this.priceLevel(inst);
      right = { kind: 'level', raw: lv.raw, value: lv.raw / 10 ** inst.priceScale, text: lv.text };
    }
    return { kind: 'series', left, cmp, right };
  }

  private volume(): Condition {
    const kw = this.next();
    const inst = this.needSymbol(kw, 'volume');
    const interval = this.interval();
    const cmp = this.cmp(false) as LevelCmp;
    const t = this.peek();
    // "3x avg(20)" or "3 x avg(20)"
    const mult = t.kind === 'word' ? /^(\d+(?:\.\d+)?|\.\d+)x$/i.exec(t.text) : null;
    const after = this.toks[this.i + 1];
    if (mult || (t.kind === 'word' && NUMBER_RE.test(t.text) && after?.lower === 'x')) {
      this.next();
      if (!mult) this.next();
      const m = decimalOf(mult ? mult[1]! : t.text);
      this.keyword(['avg'], 'after the multiplier (volume 1m > 3x avg(20))');
      this.punct('(', 'after avg');
      const count = this.integer('how many candles to average, e.g. 20', 1, MAX_PERIOD);
      this.punct(')', 'to close avg(');
      return { kind: 'volume', interval, cmp, rhs: { kind: 'avg', mult: m, count } };
    }
    const q = this.decimalToken(`a quantity of ${inst.baseAsset}, or a multiple of the average such as 3x avg(20)`);
    let raw: bigint;
    try {
      raw = parseFixedBig(q.text, inst.qtyScale);
    } catch {
      throw this.fail(q.tok, `${q.text} has more decimals than ${inst.symbol}'s step size ${step(inst.stepSize)} allows`);
    }
    return { kind: 'volume', interval, cmp, rhs: { kind: 'qty', raw } };
  }

  private spread(): Condition {
    const kw = this.next();
    const inst = this.needSymbol(kw, 'spread');
    const cmp = this.cmp(false) as LevelCmp;
    const t = this.peek();
    const unit = this.toks[this.i + 1];
    if (t.kind === 'word' && NUMBER_RE.test(t.text) && (unit?.lower === 'ticks' || unit?.lower === 'tick')) {
      this.next();
      this.next();
      if (!/^\d+$/.test(t.text)) throw this.fail(t, 'a number of ticks is a whole number');
      const ticks = Number(t.text);
      const tick = parseFixed(inst.tickSize, inst.priceScale);
      const raw = ticks * tick;
      if (!Number.isSafeInteger(raw)) throw this.fail(t, 'too many ticks');
      return { kind: 'spread', cmp, raw, ticks };
    }
    const lv = this.priceLevel(inst, `a spread in ticks (5 ticks) or in ${inst.quoteAsset} (0.5)`);
    return { kind: 'spread', cmp, raw: lv.raw, ticks: undefined };
  }

  private pnl(): Condition {
    const kw = this.next();
    let inst = this.ctx.instrument;
    const t = this.peek();
    if (t.kind === 'word' && /^[a-z][a-z0-9]*$/i.test(t.text) && !['crosses'].includes(t.lower)) {
      this.next();
      const named = this.ctx.lookup?.(t.text.toUpperCase());
      if (!named) {
        const near = closeMatches(t.text.toUpperCase(), this.ctx.symbols?.() ?? [], 3);
        throw this.fail(t, `unknown symbol "${t.text}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`);
      }
      if (inst && inst.symbol !== named.symbol) throw this.fail(t, `pnl names ${named.symbol} but the alert is on ${inst.symbol}`);
      inst = named;
    }
    if (!inst) throw this.fail(kw, 'pnl of which symbol? name it (pnl BTCUSDT < -100) or add the alert on that symbol');
    const cmp = this.cmp(true);
    const d = this.signedDecimal(`an amount of ${inst.quoteAsset}, e.g. -100`);
    if (d.scale > AMOUNT_SCALE) throw this.fail(this.toks[this.i - 1]!, `at most ${AMOUNT_SCALE} decimals`);
    const amount = d.raw * 10n ** BigInt(AMOUNT_SCALE - d.scale);
    return { kind: 'pnl', symbol: inst.symbol, cmp, amount };
  }

  private risk(): Condition {
    this.next();
    const t = this.keyword(['halted', 'reducing', 'active', 'changed'], 'after "risk"');
    const state = t.lower === 'changed' ? 'changed' : (t.text.toUpperCase() as 'HALTED' | 'REDUCING' | 'ACTIVE');
    return { kind: 'risk', state };
  }

  private feed(): Condition {
    this.next();
    this.keyword(['down'], 'after "feed"');
    const op = this.peek();
    if (op.text !== '>' && op.text !== '>=') throw this.fail(op, 'expected "> DURATION" (feed down > 30s)');
    this.next();
    const d = this.duration('how long, e.g. 30s');
    if (d.ms < 1000 || d.ms > 7 * 86_400_000) throw this.fail(d.tok, 'from 1s to 7d');
    return { kind: 'feed-down', ms: d.ms };
  }

  // ------------------------------------------------------------------ pieces

  private series(): SeriesRef {
    const t = this.next();
    if (t.lower === 'close') return { kind: 'close', interval: this.interval() };
    const name = t.lower as IndicatorName;
    this.punct('(', `after ${name} (${name}(14, 5m))`);
    const period = this.integer('a period such as 14', name === 'rsi' ? 2 : 1, MAX_PERIOD);
    this.punct(',', 'between the period and the interval');
    const interval = this.interval();
    this.punct(')', `to close ${name}(`);
    return { kind: name, period, interval };
  }

  private cmp(crossings: boolean): Cmp {
    const t = this.peek();
    if (t.kind === 'op') {
      if (t.text === '>' || t.text === '>=' || t.text === '<' || t.text === '<=') {
        this.next();
        return t.text;
      }
      const fix = t.text === '=>' ? '>=' : t.text === '=<' ? '<=' : undefined;
      throw this.fail(t, fix ? `write "${fix}", not "${t.text}"` : `"${t.text}" is not a comparison: exact equality rarely happens on a market; use >, >=, < or <=${crossings ? ', crosses above or crosses below' : ''}`);
    }
    if (t.lower === 'crosses') {
      if (!crossings) throw this.fail(t, 'this condition compares with >, >=, < or <=, it has no crossings');
      this.next();
      const dir = this.keyword(['above', 'below'], 'after "crosses"');
      return dir.lower === 'above' ? 'crosses above' : 'crosses below';
    }
    if (t.lower === 'above' || t.lower === 'below') throw this.fail(t, `write "crosses ${t.lower}"`);
    throw this.fail(t, `expected a comparison: >, >=, <, <=${crossings ? ', crosses above or crosses below' : ''}`);
  }

  private priceLevel(inst: Instrument, what = `a price in ${inst.quoteAsset}, e.g. 70000`): { raw: number; text: string } {
    const d = this.decimalToken(what);
    try {
      return { raw: parseFixed(d.text, inst.priceScale), text: d.text };
    } catch (err) {
      if (!(err instanceof QtradeError)) throw err;
      const why = /decimals/.test(err.message) ? `${d.text} has more decimals than ${inst.symbol}'s tick size ${step(inst.tickSize)} allows` : `${d.text} is too large a price`;
      throw this.fail(d.tok, why);
    }
  }

  private decimalToken(what: string): { text: string; tok: Token } {
    const t = this.peek();
    if (t.text === '-' || t.text === '+') throw this.fail(t, `expected ${what}; a sign makes no sense here`);
    if (t.kind !== 'word' || !NUMBER_RE.test(t.text)) throw this.fail(t, `expected ${what}${t.kind === 'end' ? '' : `, not "${t.text}"`}`);
    this.next();
    return { text: t.text, tok: t };
  }

  private signedDecimal(what: string): Decimal {
    let neg = false;
    const s = this.peek();
    if (s.text === '-' || s.text === '+') {
      neg = s.text === '-';
      this.next();
    }
    const d = this.decimalToken(what);
    const v = decimalOf(d.text);
    return neg ? { raw: -v.raw, scale: v.scale } : v;
  }

  private integer(what: string, min: number, max: number): number {
    const t = this.peek();
    if (t.kind !== 'word' || !/^\d+$/.test(t.text)) throw this.fail(t, `expected ${what}`);
    const n = Number(t.text);
    if (n < min || n > max) throw this.fail(t, `expected a whole number from ${min} to ${max}`);
    this.next();
    return n;
  }

  private interval(): Interval {
    const t = this.peek();
    if (t.kind !== 'word' || !isInterval(t.lower)) {
      const near = t.kind === 'word' ? closeMatches(t.lower, [...INTERVALS], 2) : [];
      throw this.fail(t, `expected a candle interval (${INTERVALS.join(', ')})${near.length ? `; did you mean ${near.join(' or ')}?` : ''}`);
    }
    this.next();
    return t.lower as Interval;
  }

  private duration(what: string): { ms: number; tok: Token } {
    const t = this.peek();
    if (t.kind !== 'word' || !DURATION_RE.test(t.lower)) throw this.fail(t, `expected ${what} (units s, m, h, d)`);
    this.next();
    let ms = 0;
    for (const m of t.lower.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    return { ms, tok: t };
  }

  private keyword(words: string[], where: string): Token {
    const t = this.peek();
    if (t.kind !== 'word' || !words.includes(t.lower)) throw this.fail(t, `expected ${words.map((w) => `"${w}"`).join(' or ')} ${where}`);
    return this.next();
  }

  private punct(p: string, where: string): void {
    const t = this.peek();
    if (t.text !== p) throw this.fail(t, `expected "${p}" ${where}`);
    this.next();
  }

  private needSymbol(t: Token, what: string): Instrument {
    const inst = this.ctx.instrument;
    if (!inst) throw this.fail(t, `${what} is about one symbol's market: add the alert on a symbol such as BTCUSDT, not on any symbol (*)`);
    return inst;
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    const t = this.toks[this.i]!;
    if (t.kind !== 'end') this.i++;
    return t;
  }

  private fail(t: Token, reason: string): ConditionError {
    return new ConditionError(reason, this.text, t.pos, t.kind === 'end' ? 1 : t.text.length);
  }
}

function decimalOf(text: string): Decimal {
  const dot = text.indexOf('.');
  const frac = dot === -1 ? '' : text.slice(dot + 1);
  const int = dot === -1 ? text : text.slice(0, dot);
  return { raw: BigInt((int || '0') + frac), scale: frac.length };
}
