import type { FeedState } from '../engine/bus.js';
import type { Fill, Order } from '../engine/orders/types.js';
import { fmtPrice, fmtQty } from './format.js';
import type { TuiSource } from './source.js';

/**
 * The events a trader should notice, newest last: feed state changes, gaps and errors, order
 * changes, fills, refusals, risk state changes, and the results of the trader's own commands.
 * A presentation log (the engine keeps the durable order log); bounded.
 */
export type LogLevel = 'info' | 'warn' | 'error' | 'good';

export interface LogEntry {
  seq: number;
  /** Exchange event time when the event carries one, else the wall time it was seen. */
  time: number;
  level: LogLevel;
  text: string;
}

export class EventLog {
  private list: LogEntry[] = [];
  private seq = 0;
  private readonly listeners = new Set<() => void>();
  private readonly offs: Array<() => void>;
  private lastFeed: FeedState['state'] | undefined;

  constructor(
    private readonly source: TuiSource,
    private readonly wallNow: () => number = Date.now,
    private readonly max = 500,
  ) {
    this.offs = [
      source.subscribe('feed.state', (s) => this.onFeed(s)),
      source.subscribe('feed.gap', (g) =>
        this.add(g.filled < g.toId - g.fromId + 1 ? 'warn' : 'info', `gap in ${g.symbol} trades ${g.fromId}..${g.toId}: ${g.filled} filled`, g.beforeTime),
      ),
      source.subscribe('feed.error', (e) => this.add('error', e.message)),
      source.subscribe('order.update', (o) => this.onOrder(o)),
      source.subscribe('fill', (f) => this.onFill(f)),
      source.subscribe('order.rejected', (r) => this.add('error', `${r.symbol} order refused: ${r.code} ${r.msg}`, r.time)),
      source.subscribe('risk.state', (r) => this.add(r.state === 'ACTIVE' ? 'good' : 'warn', `risk ${r.previous} → ${r.state}: ${r.reason}`, r.time)),
      source.subscribe('source.reset', (r) => {
        this.lastFeed = undefined;
        this.add('info', r.reason);
      }),
    ];
  }

  entries(): readonly LogEntry[] {
    return this.list;
  }

  last(): LogEntry | undefined {
    return this.list[this.list.length - 1];
  }

  add(level: LogLevel, text: string, time?: number): void {
    this.list = [...this.list.slice(-(this.max - 1)), { seq: ++this.seq, time: time ?? this.wallNow(), level, text }];
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.listeners.clear();
  }

  private onFeed(s: FeedState): void {
    if (s.state === this.lastFeed && s.state !== 'reconnecting') return;
    this.lastFeed = s.state;
    if (s.state === 'reconnecting') {
      const next = s.nextInMs === undefined ? '' : `, next in ${Math.ceil(s.nextInMs / 1000)}s`;
      this.add('warn', `feed reconnecting (attempt ${s.attempt}${next})${s.reason ? `: ${s.reason}` : ''}`);
    } else if (s.state === 'closed') {
      this.add('info', `feed closed${s.reason ? `: ${s.reason}` : ''}`);
    } else {
      this.add(s.state === 'open' ? 'good' : 'info', `feed ${s.state}`);
    }
  }

  private onOrder(o: Order): void {
    if (o.status === 'PARTIALLY_FILLED') return; // its fills say more
    const inst = this.source.instrument(o.symbol);
    const qty = inst ? fmtQty(o.origQty, inst) : String(o.origQty);
    const price = o.price !== 0 && inst ? ` @ ${fmtPrice(o.price, inst)}` : '';
    this.add(o.status === 'NEW' ? 'info' : o.status === 'FILLED' ? 'good' : 'warn', `order ${o.orderId} ${o.side} ${qty} ${o.symbol} ${o.type}${price} ${o.status}`, o.updateTime);
  }

  private onFill(f: Fill): void {
    const inst = this.source.instrument(f.symbol);
    const text = inst ? `${fmtQty(f.qty, inst)} @ ${fmtPrice(f.price, inst)}` : `${f.qty} @ ${f.price}`;
    this.add('good', `fill ${f.orderId} ${f.side} ${text} ${f.symbol} (${f.isMaker ? 'maker' : 'taker'})`, f.time);
  }
}
