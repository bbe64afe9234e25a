import { afterEach, describe, expect, it, vi } from 'vitest';
import { parsePrometheus, sampleValue } from '../../test/helpers/prometheus.js';
import { Bus } from '../engine/bus.js';
import { LiveClock, SimClock, type Clock } from '../engine/clock.js';
import type { KernelStats } from '../engine/kernel.js';
import type { Trade } from '../engine/market/types.js';
import type { RiskStateName } from '../engine/bus.js';
import { DaemonMetrics, PromText, RateWindow, escapeHelp, escapeLabelValue, formatValue, type MetricsCounters } from './metrics.js';

describe('PromText (exposition format 0.0.4)', () => {
  it('escapes HELP text and label values as the format requires', () => {
    expect(escapeHelp('a\\b\nc "q"')).toBe('a\\\\b\\nc "q"');
    expect(escapeLabelValue('a\\b\nc "q"')).toBe('a\\\\b\\nc \\"q\\"');
  });

  it('formats special values the way Prometheus parses them', () => {
    expect([NaN, Infinity, -Infinity, 0, -1.5, 1e21].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '0', '-1.5', '1e+21']);
  });

  it('writes HELP and TYPE before each family and round-trips awkward label values', () => {
    const nasty = 'POST /x?"a"\\b\nnext';
    const text = new PromText()
      .counter('t_requests_total', 'Requests, by "route".\nSecond line \\ here.', [
        { labels: { route: nasty, status: '200' }, value: 3 },
        { labels: { route: 'GET /', status: '404' }, value: 1 },
      ])
      .gauge('t_temp', 'A gauge.', 21.5)
      .gauge('t_empty', 'No samples yet.', [])
      .text();
    expect(text.split('\n').slice(0, 4)).toEqual([
      '# HELP t_requests_total Requests, by "route".\\nSecond line \\\\ here.',
      '# TYPE t_requests_total counter',
      't_requests_total{route="POST /x?\\"a\\"\\\\b\\nnext",status="200"} 3',
      't_requests_total{route="GET /",status="404"} 1',
    ]);
    const fams = parsePrometheus(text);
    expect(fams.get('t_requests_total')!.help).toBe('Requests, by "route".\nSecond line \\ here.');
    expect(sampleValue(fams, 't_requests_total', { route: nasty })).toBe(3);
    expect(fams.get('t_temp')).toMatchObject({ type: 'gauge', samples: [{ name: 't_temp', labels: {}, value: 21.5 }] });
    expect(fams.get('t_empty')).toMatchObject({ type: 'gauge', samples: [] });
  });

  it('refuses counters without _total, bad names, bad labels and families written twice', () => {
    expect(() => new PromText().counter('t_requests', 'x', 1)).toThrow(/_total/);
    expect(() => new PromText().gauge('1abc', 'x', 1)).toThrow(/invalid metric name/);
    expect(() => new PromText().gauge('t_g', 'x', [{ labels: { 'bad-name': 'v' }, value: 1 }])).toThrow(/invalid label name/);
    expect(() => new PromText().gauge('t_g', 'x', [{ labels: { __reserved: 'v' }, value: 1 }])).toThrow(/invalid label name/);
    expect(() => new PromText().gauge('t_g', 'x', 1).gauge('t_g', 'y', 2)).toThrow(/twice/);
  });

  it('the test parser rejects what Prometheus would', () => {
    expect(() => parsePrometheus('x 1\n')).toThrow(/without TYPE/);
    expect(() => parsePrometheus('# TYPE x gauge\nx 1\n')).toThrow(/no HELP/);
    expect(() => parsePrometheus('# HELP x h\n# TYPE x gauge\nx{a="b} 1\n')).toThrow(/unterminated|expected/);
    expect(() => parsePrometheus('# HELP x h\n# TYPE x gauge\nx one\n')).toThrow(/bad value/);
    expect(() => parsePrometheus('# HELP x h\n# TYPE x gauge\nx 1')).toThrow(/line feed/);
  });
});

describe('RateWindow', () => {
  it('averages the last complete seconds and forgets older ones', () => {
    const r = new RateWindow(10);
    const t0 = 1_700_000_000_000;
    for (let s = 0; s < 10; s++) r.add(t0 + s * 1000, 5);
    // The 10th second is still filling: only 9 complete seconds count.
    expect(r.perSecond(t0 + 9_500)).toBe(4.5);
    expect(r.perSecond(t0 + 10_000)).toBe(5);
    expect(r.perSecond(t0 + 15_000)).toBe(2.5);
    expect(r.perSecond(t0 + 60_000)).toBe(0);
    r.add(t0 + 60_100, 20);
    expect(r.perSecond(t0 + 61_000)).toBe(2);
  });
});

// ------------------------------------------------------------------ DaemonMetrics on a real bus

function stats(over: Partial<KernelStats> = {}): KernelStats {
  return {
    frames: 0,
    decodeErrors: 0,
    trades: 0,
    duplicates: 0,
    gaps: 0,
    gapTradesFilled: 0,
    missingTrades: 0,
    candlesClosed: 0,
    candlesIncomplete: 0,
    candleChecks: 0,
    candleMismatches: 0,
    storeErrors: 0,
    orderErrors: 0,
    ...over,
  };
}

function trade(time: number): Trade {
  return { symbol: 'BTCUSDT', id: time, price: 4_200_000, qty: 1000, firstId: time, lastId: time, time, buyerMaker: false };
}

let open: DaemonMetrics | undefined;
afterEach(() => {
  open?.close();
  open = undefined;
});

function setup(clock: Clock, k: KernelStats = stats()) {
  const bus = new Bus();
  let wall = 1_700_000_000_000;
  let risk: RiskStateName = 'ACTIVE';
  const symbols = ['BTCUSDT'];
  const counters: MetricsCounters = {
    requests: new Map([['GET /api/v3/ping', new Map([[200, 4], [429, 1]])], ['unknown', new Map([[404, 2]])]]),
    clients: 3,
    dropped: new Map([['slow consumer', 1]]),
  };
  const m = new DaemonMetrics({
    node: { bus, clock, kernel: { stats: () => k }, trading: { status: () => ({ state: risk }) }, symbols: () => symbols },
    counters,
    wallNow: () => wall,
    startedAt: wall,
    version: '9.9.9',
  });
  open = m;
  return {
    bus,
    m,
    advance: (ms: number) => void (wall += ms),
    now: () => wall,
    setRisk: (s: RiskStateName) => void (risk = s),
    /** A symbol added to the feed later (a strategy's). */
    addSymbol: (s: string) => void symbols.push(s),
  };
}

describe('DaemonMetrics', () => {
  it('counts the feed from the bus: messages, reconnects, lag and silence', () => {
    let wall = 0;
    const clock = new LiveClock(() => wall);
    const t = setup(clock, stats({ frames: 7, gapTradesFilled: 2, candleChecks: 5, candleMismatches: 1 }));
    wall = t.now();
    let f = parsePrometheus(t.m.render());
    expect(sampleValue(f, 'qtrade_feed_state', { state: 'connecting' })).toBe(1);
    expect(f.get('qtrade_feed_lag_seconds')!.samples).toEqual([]);
    expect(f.get('qtrade_feed_last_message_age_seconds')!.samples).toEqual([]);
    expect(t.m.feed()).toMatchObject({ state: 'connecting', connected: false, lagMs: null, lastMessageAgeMs: null });

    t.bus.publish('feed.state', { state: 'open', attempt: 0 });
    clock.advance(t.now() - 250);
    t.bus.publish('trade', trade(t.now() - 250));
    t.bus.publish('book.top', {} as never);
    t.bus.publish('book.top', {} as never);
    t.bus.publish('feed.state', { state: 'reconnecting', attempt: 1, nextInMs: 800 });
    t.bus.publish('feed.state', { state: 'connecting', attempt: 1 });
    t.bus.publish('feed.state', { state: 'open', attempt: 0 });
    t.advance(3_000);
    wall = t.now();

    f = parsePrometheus(t.m.render());
    expect(sampleValue(f, 'qtrade_feed_messages_total', { type: 'trade' })).toBe(1);
    expect(sampleValue(f, 'qtrade_feed_messages_total', { type: 'book.top' })).toBe(2);
    expect(sampleValue(f, 'qtrade_feed_messages_per_second')).toBeCloseTo(0.3);
    expect(sampleValue(f, 'qtrade_feed_reconnects_total')).toBe(1);
    expect(sampleValue(f, 'qtrade_feed_state', { state: 'open' })).toBe(1);
    expect(sampleValue(f, 'qtrade_feed_state', { state: 'reconnecting' })).toBe(0);
    expect(sampleValue(f, 'qtrade_feed_connected')).toBe(1);
    expect(sampleValue(f, 'qtrade_feed_lag_seconds')).toBe(3.25);
    expect(sampleValue(f, 'qtrade_feed_last_message_age_seconds')).toBe(3);
    expect(sampleValue(f, 'qtrade_feed_frames_total')).toBe(7);
    expect(sampleValue(f, 'qtrade_trade_gap_filled_total')).toBe(2);
    expect(sampleValue(f, 'qtrade_candle_checks_total')).toBe(5);
    expect(sampleValue(f, 'qtrade_candle_mismatches_total')).toBe(1);
    expect(sampleValue(f, 'qtrade_uptime_seconds')).toBe(3);
    expect(sampleValue(f, 'qtrade_build_info', { version: '9.9.9' })).toBe(1);
    expect(t.m.feed()).toMatchObject({ state: 'open', connected: true, lagMs: 3250, lastMessageAgeMs: 3000 });
  });

  it('tracks each configured symbol: messages and the age of its last one, from when it was expected', () => {
    const t = setup(new SimClock(0));
    const start = t.now();
    t.addSymbol('ETHUSDT');
    t.advance(1_000);
    t.bus.publish('book.top', { symbol: 'BTCUSDT' } as never);
    t.bus.publish('trade', { ...trade(t.now()), symbol: 'BTCUSDT' });
    t.advance(2_000);
    // ETHUSDT was added after the metrics started: it is expected from the first look that sees it.
    expect(t.m.feed().symbols).toEqual([
      { symbol: 'BTCUSDT', messages: 2, lastMessageAgeMs: 2_000, since: start },
      { symbol: 'ETHUSDT', messages: 0, lastMessageAgeMs: null, since: start + 3_000 },
    ]);
    let f = parsePrometheus(t.m.render());
    expect(sampleValue(f, 'qtrade_feed_symbol_messages_total', { symbol: 'BTCUSDT' })).toBe(2);
    expect(sampleValue(f, 'qtrade_feed_symbol_messages_total', { symbol: 'ETHUSDT' })).toBe(0);
    expect(sampleValue(f, 'qtrade_feed_symbol_last_message_age_seconds', { symbol: 'BTCUSDT' })).toBe(2);
    expect(f.get('qtrade_feed_symbol_last_message_age_seconds')!.samples.map((s) => s.labels.symbol)).toEqual(['BTCUSDT']);

    t.bus.publish('ticker', { symbol: 'ETHUSDT' } as never);
    t.advance(500);
    f = parsePrometheus(t.m.render());
    expect(sampleValue(f, 'qtrade_feed_symbol_last_message_age_seconds', { symbol: 'ETHUSDT' })).toBe(0.5);
    expect(t.m.feed().symbols[1]).toMatchObject({ symbol: 'ETHUSDT', messages: 1, lastMessageAgeMs: 500 });
  });

  it('takes lag from the last trade when the clock is not live', () => {
    const t = setup(new SimClock(0));
    t.bus.publish('trade', trade(t.now() - 1_000));
    t.advance(500);
    expect(t.m.feed().lagMs).toBe(1_500);
  });

  it('counts orders, fills and rejections by rule and code; HTTP and WS from the counters', () => {
    const t = setup(new SimClock(0));
    t.bus.publish('order.event', { kind: 'accepted', seq: 1, time: 1 } as never);
    t.bus.publish('order.event', { kind: 'accepted', seq: 2, time: 1 } as never);
    t.bus.publish('order.event', { kind: 'fill', seq: 3, time: 1 } as never);
    t.bus.publish('fill', { side: 'BUY', isMaker: false } as never);
    t.bus.publish('order.rejected', { symbol: 'BTCUSDT', code: -31001, msg: 'halted', rule: 'halted', time: 1 });
    t.bus.publish('order.rejected', { symbol: 'BTCUSDT', code: -31001, msg: 'halted', rule: 'halted', time: 2 });
    t.bus.publish('order.rejected', { symbol: 'BTCUSDT', code: -2010, msg: 'Account has insufficient balance', time: 3 });
    t.bus.publish('risk.state', { state: 'HALTED', previous: 'ACTIVE', reason: 'test', time: 1 });
    t.setRisk('HALTED');

    const f = parsePrometheus(t.m.render());
    expect(sampleValue(f, 'qtrade_order_events_total', { kind: 'accepted' })).toBe(2);
    expect(sampleValue(f, 'qtrade_order_events_total', { kind: 'fill' })).toBe(1);
    expect(sampleValue(f, 'qtrade_fills_total', { side: 'BUY', liquidity: 'taker' })).toBe(1);
    expect(sampleValue(f, 'qtrade_order_rejections_total', { rule: 'halted', code: '-31001' })).toBe(2);
    expect(sampleValue(f, 'qtrade_order_rejections_total', { rule: 'exchange', code: '-2010' })).toBe(1);
    expect(sampleValue(f, 'qtrade_risk_state', { state: 'HALTED' })).toBe(1);
    expect(sampleValue(f, 'qtrade_risk_transitions_total')).toBe(1);
    expect(sampleValue(f, 'qtrade_http_requests_total', { route: 'GET /api/v3/ping', status: '429' })).toBe(1);
    expect(sampleValue(f, 'qtrade_http_requests_total', { route: 'unknown', status: '404' })).toBe(2);
    expect(sampleValue(f, 'qtrade_ws_clients')).toBe(3);
    expect(sampleValue(f, 'qtrade_ws_dropped_total', { reason: 'slow consumer' })).toBe(1);
    expect(sampleValue(f, 'qtrade_process_memory_bytes', { kind: 'rss' })).toBeGreaterThan(0);
    expect(f.get('qtrade_event_loop_delay_seconds')!.samples.map((s) => s.labels.quantile)).toEqual(['0.5', '0.99']);
    for (const fam of f.values()) {
      expect(fam.name.startsWith('qtrade_')).toBe(true);
      if (fam.type === 'counter') expect(fam.name.endsWith('_total')).toBe(true);
    }
  });

  it('stops counting once closed', () => {
    const t = setup(new SimClock(0));
    t.m.close();
    t.bus.publish('feed.state', { state: 'reconnecting', attempt: 1 });
    expect(sampleValue(parsePrometheus(t.m.render()), 'qtrade_feed_reconnects_total')).toBe(0);
  });

  it('reports the event-loop delay of a fixed window: a read does not change what the next read sees', async () => {
    // Only the window timer is faked: the delays are the real event loop's.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const t = setup(new SimClock(0));
      await new Promise((r) => setTimeout(r, 30)); // the sampler's first tick: it measures from there
      const until = Date.now() + 60;
      while (Date.now() < until); // block the loop: a delay of about 50 ms
      await new Promise((r) => setTimeout(r, 30)); // the sampler records it
      vi.advanceTimersByTime(10_000); // the window closes
      const loop = () => {
        const f = parsePrometheus(t.m.render());
        return [sampleValue(f, 'qtrade_event_loop_delay_max_seconds'), sampleValue(f, 'qtrade_event_loop_delay_seconds', { quantile: '0.99' })];
      };
      const first = loop();
      expect(first[0]).toBeGreaterThan(0.02);
      // Another reader (the TUI polling, a second Prometheus) reads right after: the same window, the same figures.
      expect(loop()).toEqual(first);
      expect(loop()).toEqual(first);
    } finally {
      vi.useRealTimers();
    }
  });
});
