#!/usr/bin/env node
// The dashboard's CPU cost on a busy market. Runs the built binary: `npm run build` first.
//
// `qtrade tui --symbols btcusdt` runs in a real terminal (a detached tmux session, 140x40 by default:
// the full layout, every panel on screen, colours on) against a loopback Binance served by this
// process: REST (exchangeInfo from fixtures/, a 100-level depth snapshot, aggTrades for gap fills) and a
// combined-stream WebSocket that sends BTCUSDT at BENCH_RATE (default 100) aggTrades a second on a
// seeded random walk, a bookTicker with every trade, a diff-depth event every 100 ms (as
// `@depth@100ms`: a few levels near the top changed, crossed levels removed) and a miniTicker a second.
// After BENCH_WARMUP seconds (default 5) of that, for BENCH_SECONDS (default 20):
//   - CPU of the TUI process (user + system, /proc/<pid>/stat) as a share of one core; target ≤ 15 %;
//   - frames written to the terminal per second: Ink wraps each one in a synchronized-update sequence
//     (ESC[?2026h), counted in the pane's output through `tmux pipe-pane`; the TUI caps them at 30/s
//     and writes only frames that changed;
//   - bytes written to the terminal per second.
// There is no peer terminal dashboard to run side by side, so the figure stands against its target;
// for reference the same feed also goes, in the same run, to `qtrade feed` (the same Binance client
// and candle pipeline, printing closed candles, no dashboard and no paper account).
// At the end the stream stops and the screen must show the last trade's price: the TUI kept up.
// BENCH_SIZE=80x24 picks the terminal size; BENCH_TUI_ARGS="--cpu-prof --cpu-prof-dir=DIR" passes
// node options to the TUI process (profiling).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { prng } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'dist/bin/qtrade.js');
const RATE = Number(process.env.BENCH_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const [COLS, ROWS] = (process.env.BENCH_SIZE ?? '140x40').split('x').map(Number);
const TARGET_CPU = 15;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (spawnSync('tmux', ['-V']).status !== 0) {
  console.error('tui.bench: tmux is not installed (apt-get install -y tmux); it runs the TUI in a real terminal');
  process.exit(1);
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// ------------------------------------------------------------------ the market

const TICK = 1; // prices in cents (0.01 tick)
const fmt = (cents) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}000000`;
const fmtQty = (units) => (units / 1e5).toFixed(8); // 0.00001 step

/** BTCUSDT around 60,000 on a seeded random walk; a book kept consistent with the trades. */
function createMarket() {
  const rnd = prng(20240808);
  let mid = 6_000_000; // cents
  let aggId = 5_000_000_000;
  let updateId = 1_000_000;
  const bids = new Map(); // cents → qty units
  const asks = new Map();
  const size = () => 1 + Math.floor(-Math.log(1 - rnd()) * 20_000); // heavy tail, ≥ 0.00001
  for (let i = 0; i < 100; i++) {
    bids.set(mid - 1 - i * TICK, size());
    asks.set(mid + i * TICK, size());
  }
  const best = (m, dir) => {
    let b;
    for (const p of m.keys()) if (b === undefined || (dir > 0 ? p > b : p < b)) b = p;
    return b;
  };
  const trades = [];
  return {
    snapshot: () => ({ lastUpdateId: updateId, bids: [...bids].sort((a, b) => b[0] - a[0]).map(([p, q]) => [fmt(p), fmtQty(q)]), asks: [...asks].sort((a, b) => a[0] - b[0]).map(([p, q]) => [fmt(p), fmtQty(q)]) }),
    trades,
    /** The next trade: at the best bid or ask, the walk moving the mid now and then. */
    trade(now) {
      const r = rnd();
      if (r < 0.15) mid += TICK;
      else if (r < 0.3) mid -= TICK;
      const buyer = rnd() < 0.5;
      const price = buyer ? (best(asks, -1) ?? mid) : (best(bids, 1) ?? mid - 1);
      const t = { a: aggId, p: fmt(price), q: fmtQty(size()), f: aggId * 2, l: aggId * 2, T: now, m: !buyer, M: true };
      aggId++;
      trades.push(t);
      if (trades.length > 10_000) trades.splice(0, 5_000);
      return { e: 'aggTrade', E: now + 1, s: 'BTCUSDT', ...t };
    },
    /** Binance's `@depth@100ms` event: a few levels near the new mid changed, crossed ones removed. */
    depth(now) {
      const U = updateId + 1;
      const b = [];
      const a = [];
      for (const p of [...bids.keys()]) {
        if (p < mid) continue;
        bids.delete(p);
        b.push([fmt(p), fmtQty(0)]);
      }
      for (const p of [...asks.keys()]) {
        if (p >= mid) continue;
        asks.delete(p);
        a.push([fmt(p), fmtQty(0)]);
      }
      for (let i = 0; i < 5; i++) {
        const bp = mid - 1 - Math.floor(rnd() * 10) * TICK;
        const ap = mid + Math.floor(rnd() * 10) * TICK;
        const bq = size();
        const aq = size();
        bids.set(bp, bq);
        asks.set(ap, aq);
        b.push([fmt(bp), fmtQty(bq)]);
        a.push([fmt(ap), fmtQty(aq)]);
      }
      updateId += 1 + Math.floor(rnd() * 5);
      return { e: 'depthUpdate', E: now, s: 'BTCUSDT', U, u: updateId, b, a };
    },
    bookTicker() {
      const bp = best(bids, 1);
      const ap = best(asks, -1);
      return { u: updateId, s: 'BTCUSDT', b: fmt(bp), B: fmtQty(bids.get(bp)), a: fmt(ap), A: fmtQty(asks.get(ap)) };
    },
    miniTicker(now, last) {
      return { e: '24hrMiniTicker', E: now, s: 'BTCUSDT', c: last, o: '59000.00000000', h: '60500.00000000', l: '58800.00000000', v: '12345.00000000', q: '740000000.00000000' };
    },
  };
}

// ------------------------------------------------------------------ a loopback Binance

async function startBinance(market) {
  const exchangeInfo = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/binance/exchangeInfo.json'), 'utf8'));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const q = url.searchParams;
    let body;
    switch (url.pathname) {
      case '/api/v3/ping':
        body = {};
        break;
      case '/api/v3/time':
        body = { serverTime: Date.now() };
        break;
      case '/api/v3/exchangeInfo':
        body = { ...exchangeInfo, serverTime: Date.now() };
        break;
      case '/api/v3/depth':
        body = market.snapshot();
        break;
      case '/api/v3/aggTrades': {
        const from = q.has('fromId') ? Number(q.get('fromId')) : undefined;
        const limit = Number(q.get('limit') ?? 500);
        const list = from === undefined ? market.trades.slice(-limit) : market.trades.filter((t) => t.a >= from).slice(0, limit);
        body = list;
        break;
      }
      case '/api/v3/klines':
        body = [];
        break;
      default:
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: -1, msg: `not served: ${url.pathname}` }));
        return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '1' }).end(JSON.stringify(body));
  });
  const wss = new WebSocketServer({ noServer: true });
  const conns = new Set();
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const url = new URL(req.url, 'http://x');
      const streams = new Set((url.searchParams.get('streams') ?? '').split('/').filter(Boolean));
      const conn = { ws, streams };
      conns.add(conn);
      ws.on('message', (data) => {
        let m;
        try {
          m = JSON.parse(String(data));
        } catch {
          return;
        }
        if (m.method === 'SUBSCRIBE') for (const s of m.params ?? []) streams.add(s);
        if (m.method === 'UNSUBSCRIBE') for (const s of m.params ?? []) streams.delete(s);
        ws.send(JSON.stringify({ result: m.method === 'LIST_SUBSCRIPTIONS' ? [...streams] : null, id: m.id ?? null }));
      });
      ws.on('close', () => conns.delete(conn));
      ws.on('error', () => {});
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    restUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    subscribed: (stream) => [...conns].some((c) => c.streams.has(stream) && c.ws.readyState === 1),
    send(stream, data) {
      const text = JSON.stringify({ stream, data });
      for (const c of conns) if (c.streams.has(stream)) c.ws.send(text);
    },
    close: () =>
      new Promise((r) => {
        for (const c of conns) c.ws.terminate();
        wss.close();
        server.close(() => r());
      }),
  };
}

/** Sends the market at RATE trades/s on a fixed schedule (catching up in bursts if the timer is late). */
function stream(binance, market) {
  const start = performance.now();
  let sent = 0;
  let depthSent = 0;
  let last = '';
  const timer = setInterval(() => {
    const elapsed = performance.now() - start;
    const now = Date.now();
    const due = Math.floor((elapsed / 1000) * RATE);
    for (; sent < due; sent++) {
      const t = market.trade(now);
      last = t.p;
      binance.send('btcusdt@aggTrade', t);
      binance.send('btcusdt@bookTicker', market.bookTicker());
      if (sent % RATE === 0) binance.send('btcusdt@miniTicker', market.miniTicker(now, t.p));
    }
    for (; depthSent < Math.floor(elapsed / 100); depthSent++) binance.send('btcusdt@depth@100ms', market.depth(now));
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return { sent, last };
    },
    get sent() {
      return sent;
    },
  };
}

// ------------------------------------------------------------------ the terminal

/** Resident memory, MiB. */
function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
}

/** Runs argv in a detached tmux session of its own; measures its CPU and what it writes to the terminal. */
async function inTerminal({ label, argv, env, subscribedTo, binance, market, screenCheck }) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'qtrade-bench-tui-'));
  const socket = `qtrade-bench-${process.pid}-${label}`;
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  // exec: the pane's process is qtrade itself. CI unset: Ink writes no synchronized-update marks in CI;
  // NO_COLOR unset: a trader's terminal has colours.
  const cmd = ['exec', 'env', '-u', 'CI', '-u', 'CONTINUOUS_INTEGRATION', '-u', 'NO_COLOR', ...envArgs, process.execPath, ...argv.map(String)].map(quote).join(' ');
  tmux('new-session', '-d', '-s', 'b', '-x', String(COLS), '-y', String(ROWS), '-c', ROOT, cmd);
  const capture = () => tmux('capture-pane', '-p', '-t', 'b');
  const socketPath = tmux('display-message', '-p', '-t', 'b', '#{socket_path}').trim();
  try {
    const pid = Number(tmux('display-message', '-p', '-t', 'b', '#{pane_pid}').trim());
    const deadline = Date.now() + 60_000;
    while (!binance.subscribed(subscribedTo)) {
      if (Date.now() > deadline) throw new Error(`${label}: no subscription to ${subscribedTo} within 60 s; screen:\n${capture()}`);
      await sleep(100);
    }
    const feed = stream(binance, market);
    await sleep(WARMUP * 1000);
    const out = path.join(work, 'pane.out');
    tmux('pipe-pane', '-O', '-t', 'b', `cat > ${quote(out)}`);
    const m0 = rssMiB(pid);
    const c0 = cpuTicks(pid);
    const t0 = performance.now();
    const s0 = feed.sent;
    await sleep(SECONDS * 1000);
    const c1 = cpuTicks(pid);
    const wall = (performance.now() - t0) / 1000;
    const m1 = rssMiB(pid);
    const trades = feed.sent - s0;
    tmux('pipe-pane', '-t', 'b'); // stops the pipe
    const { last } = feed.stop();
    await sleep(300);
    const bytes = readFileSync(out, 'latin1');
    const frames = bytes.split('\u001B[?2026h').length - 1;
    let screen = capture();
    // The stream stopped: once the TUI caught up, its screen shows the last price.
    if (screenCheck) {
      const want = screenCheck(last);
      const until = Date.now() + 5000;
      while (!screen.includes(want) && Date.now() < until) {
        await sleep(200);
        screen = capture();
      }
      if (!screen.includes(want)) throw new Error(`${label}: the last trade's price ${want} is not on screen 5 s after the stream stopped:\n${screen}`);
    }
    return { cpu: ((c1 - c0) / CLK_TCK / wall) * 100, fps: frames / wall, bytesPerSec: statSync(out).size / wall, tradesPerSec: trades / wall, rss: [m0, m1], screen };
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // gone already
    }
    rmSync(work, { recursive: true, force: true });
    rmSync(socketPath, { force: true });
  }
}

// ------------------------------------------------------------------ run

const market = createMarket();
const binance = await startBinance(market);
const baseEnv = { QTRADE_BINANCE_REST_URL: binance.restUrl, QTRADE_BINANCE_WS_URL: binance.wsUrl, HTTPS_PROXY: '', https_proxy: '', QTRADE_PROXY: '', TERM: 'tmux-256color' };
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-bench-tui-data-'));
const nodeArgs = (process.env.BENCH_TUI_ARGS ?? '').split(' ').filter(Boolean);
const grouped = (p) => Number(p).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
let tui;
let feed;
try {
  tui = await inTerminal({
    label: 'tui',
    argv: [...nodeArgs, BIN, '--data-dir', dataDir, 'tui', '--symbols', 'btcusdt'],
    env: baseEnv,
    subscribedTo: 'btcusdt@depth@100ms',
    binance,
    market,
    screenCheck: grouped,
  });
  feed = await inTerminal({
    label: 'feed',
    argv: [BIN, '--data-dir', dataDir, 'feed', '--symbols', 'btcusdt', '--channels', 'aggTrade,bookTicker,depth,miniTicker', '--no-store'],
    env: baseEnv,
    subscribedTo: 'btcusdt@depth@100ms',
    binance,
    market,
  });
} finally {
  await binance.close();
  rmSync(dataDir, { recursive: true, force: true });
}

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`qtrade tui in tmux ${COLS}x${ROWS}, BTCUSDT at ${tui.tradesPerSec.toFixed(0)} aggTrades/s + bookTicker per trade + depth@100ms, ${SECONDS} s after ${WARMUP} s warm-up`);
console.log('');
const rows = [
  ['qtrade tui (the dashboard)', `${tui.cpu.toFixed(1)} %`, `${tui.fps.toFixed(1)}`, `${(tui.bytesPerSec / 1024).toFixed(0)} KiB/s`, `≤ ${TARGET_CPU} % ${tui.cpu <= TARGET_CPU ? '✓' : '✗'}`],
  ['qtrade feed, same stream (reference: no dashboard)', `${feed.cpu.toFixed(1)} %`, '-', `${(feed.bytesPerSec / 1024).toFixed(1)} KiB/s`, ''],
];
const head = ['process', 'CPU (one core)', 'frames/s', 'to terminal', 'target'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
console.log(`| ${head.map((h, i) => h.padEnd(w[i])).join(' | ')} |`);
console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|')}|`);
for (const r of rows) console.log(`| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`);
console.log('');
console.log(`frames are capped at 30/s; load average during the run: ${load} on ${os.cpus().length} CPUs`);
console.log(`resident memory of the TUI: ${tui.rss[0].toFixed(0)} MiB at the start of the timed run, ${tui.rss[1].toFixed(0)} MiB at its end`);
if (process.env.BENCH_SHOW_SCREEN) console.log(`\n${tui.screen}`);
