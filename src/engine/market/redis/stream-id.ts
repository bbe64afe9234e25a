/**
 * Redis stream entry ids (`<ms>-<seq>`, two unsigned 64-bit parts), compared and stepped exactly.
 * XREAD and exclusive XRANGE take "entries after this id"; to start *at* an entry we need the id
 * just before it.
 */

const MAX_SEQ = 18446744073709551615n;

function parts(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  if (dash < 0) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = parts(a);
  const [bm, bs] = parts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** The greatest id below `id`, so that "after it" starts at `id` itself. */
export function streamIdBefore(id: string): string {
  const [ms, seq] = parts(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${MAX_SEQ}`;
  return '0-0';
}
