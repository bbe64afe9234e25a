/**
 * Time for the engines. Nothing in src/engine reads the wall clock for event time:
 * LiveClock follows the exchange's event time, SimClock is advanced by replayed events,
 * so live, replay and backtest see identical timestamps.
 */
export interface Clock {
  /** Latest exchange event time seen, ms. */
  now(): number;
  /** Advances to an event's time; never moves backwards. */
  advance(eventTime: number): void;
}

/** Follows exchange event time in live trading; `wallNow` is only used for lag metrics. */
export class LiveClock implements Clock {
  private last = 0;
  constructor(private readonly wall: () => number = Date.now) {}
  now(): number {
    return this.last;
  }
  advance(eventTime: number): void {
    if (eventTime > this.last) this.last = eventTime;
  }
  /** Local receive time minus exchange event time: how far behind the feed runs. */
  lagMs(): number {
    return this.last === 0 ? 0 : this.wall() - this.last;
  }
}

/** Driven only by replayed events. */
export class SimClock implements Clock {
  private last: number;
  constructor(start = 0) {
    this.last = start;
  }
  now(): number {
    return this.last;
  }
  advance(eventTime: number): void {
    if (eventTime > this.last) this.last = eventTime;
  }
}
