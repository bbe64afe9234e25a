import type { AlertFiring } from './alerts/types.js';
import type { Candle } from './candles/types.js';
import type { TradeGap } from './market/trade-sequencer.js';
import type { OrderEvent } from './orders/events.js';
import type { Fill, Order } from './orders/types.js';
import type { BookTop, MiniTicker, Trade } from './market/types.js';

/** Every topic on the bus and its payload type. Engines talk only through these. */
export interface Topics {
  trade: Trade;
  'candle.partial': Candle;
  'candle.closed': Candle;
  /**
   * A minute that closed but is known to lack trades: the one the feed started in, or one a
   * trade gap touched that REST could not fill. Not stored, not compared; UIs may show it marked.
   */
  'candle.incomplete': Candle;
  /** A closed kline from the exchange, for cross-checking our own. */
  'candle.exchange': Candle;
  'candle.mismatch': { ours: Candle; theirs: Candle; fields: string[] };
  'book.top': BookTop;
  'book.update': { symbol: string; updateId: number };
  ticker: MiniTicker;
  'feed.state': FeedState;
  'feed.gap': TradeGap;
  'feed.error': { message: string; detail?: string };
  /** Every order-engine event, published only after it is durable in the store. */
  'order.event': OrderEvent;
  /** An order's new state (accepted, partially filled, filled, canceled, expired, triggered). */
  'order.update': Order;
  fill: Fill;
  /** A request refused by risk or exchange filters: Binance's code and message (risk rules add `rule`). */
  'order.rejected': { symbol: string; clientOrderId?: string; code: number; msg: string; rule?: string; time: number };
  'risk.state': RiskStateChange;
  /** An alert fired (engine/alerts): the TUI toasts it (and rings the bell unless alerts.bell is off). */
  'alert.fired': AlertFiring;
}

export type RiskStateName = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface RiskStateChange {
  state: RiskStateName;
  previous: RiskStateName;
  reason: string;
  time: number;
}

export interface FeedState {
  state: 'connecting' | 'open' | 'reconnecting' | 'closed';
  attempt: number;
  /** ms until the next reconnect attempt, when reconnecting. */
  nextInMs?: number;
  reason?: string;
}

export type Topic = keyof Topics;
export type Handler<T extends Topic> = (payload: Topics[T]) => void;

/**
 * Typed synchronous in-process bus. Handlers run in subscription order; a throwing
 * handler is reported through `onError` and does not stop the others.
 */
export class Bus {
  private readonly handlers: { [T in Topic]?: Handler<T>[] } = {};

  constructor(private readonly onError: (topic: Topic, err: unknown) => void = () => {}) {}

  publish<T extends Topic>(topic: T, payload: Topics[T]): void {
    const list = this.handlers[topic] as Handler<T>[] | undefined;
    if (!list) return;
    for (const h of list) {
      try {
        h(payload);
      } catch (err) {
        this.onError(topic, err);
      }
    }
  }

  /** Returns an unsubscribe function. */
  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    const list = (this.handlers[topic] ??= [] as Handler<T>[] as never) as Handler<T>[];
    list.push(handler);
    return () => {
      const i = list.indexOf(handler);
      if (i !== -1) list.splice(i, 1);
    };
  }

  hasSubscribers(topic: Topic): boolean {
    return (this.handlers[topic]?.length ?? 0) > 0;
  }
}
