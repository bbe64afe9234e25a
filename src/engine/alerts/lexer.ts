import { ConditionError } from './errors.js';

/**
 * Tokens of the condition language. Words run together letters, digits and dots, so "70000.5",
 * "5m", "3x" and "BTCUSDT" are one token each and the parser decides what a word means where it
 * stands; operators and punctuation are tokens of their own.
 */
export interface Token {
  kind: 'word' | 'op' | 'punct' | 'end';
  /** As typed. */
  text: string;
  /** Lowercase, for keywords. */
  lower: string;
  /** 0-based offset in the condition text. */
  pos: number;
}

const OPS = ['>=', '<=', '==', '!=', '=>', '=<', '>', '<', '='];
const PUNCT = new Set(['(', ')', ',', '%', '-', '+']);

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      out.push({ kind: 'op', text: op, lower: op, pos: i });
      i += op.length;
      continue;
    }
    if (PUNCT.has(c)) {
      out.push({ kind: 'punct', text: c, lower: c, pos: i });
      i++;
      continue;
    }
    const m = /^[A-Za-z0-9_.]+/.exec(text.slice(i));
    if (!m) throw new ConditionError(`unexpected character "${c}"`, text, i, 1);
    out.push({ kind: 'word', text: m[0], lower: m[0].toLowerCase(), pos: i });
    i += m[0].length;
  }
  out.push({ kind: 'end', text: '', lower: '', pos: text.length });
  return out;
}
