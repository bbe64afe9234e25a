#!/usr/bin/env node
// Order round trip over the daemon's HTTP API. Imports the build output (dist/): run `npm run build` first.
//
// A whole daemon (launchDaemon: SQLite event log with group commit, risk engine, paper matching, the
// HTTP layer with request parsing and authentication) runs in a child process of its own on a loopback
// port, its market from a local venue that delivers a BTCUSDT depth snapshot and a trade every 50 ms (no
// network). This process is the client: it sends at a fixed open-loop rate (BENCH_RATE, default
// 1000/s: each request leaves at its scheduled time whether or not earlier ones answered) over
// keep-alive connections, alternating POST /api/v3/order (a LIMIT GTC buy that rests below the market)
// and DELETE /api/v3/order of the oldest order already acknowledged (a request on another connection
// could otherwise overtake the POST it cancels). Round trip = request written → response body read,
// on this process's clock; an order is acknowledged only after its events are durable in the log.
// Shown beside it: the same round trip counted from when the request was due on the schedule (what
// a client pays when the sender itself runs late), and the daemon process's CPU. Cases: an open
// loopback daemon (no tokens) and Binance-style auth (X-MBX-APIKEY + HMAC-SHA256 signature checked per
// request), against the peer: a bare node:http server answering the same bytes (the floor every Node
// HTTP API shares), with the same client in the same run. Target: p99 ≤ 2 ms at 1k orders/s.
// BENCH_ONLY=open|hmac|peer runs one case.
import { createHmac } from 'node:crypto';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const T0 = Date.parse('2024-08-08T12:00:00Z');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A market-data venue with one synced BTCUSDT book around 60000 and a trade print every 50 ms of event time. */
class LocalVenue {
  name = 'local';
  timer = undefined;
  async start(_symbols, _channels, sink) {
    const bids = [];
    const asks = [];
    for (let i = 0; i < 20; i++) {
      bids.push({ price: 6_000_000 - i * 10, qty: 50_000_000 });
      asks.push({ price: 6_000_010 + i * 10, qty: 50_000_000 });
    }
    sink.event({ kind: 'depthSnapshot', snapshot: { symbol: 'BTCUSDT', lastUpdateId: 1, bids, asks } }, Date.now());
    let id = 1;
    const print = () => {
      sink.event({ kind: 'trade', trade: { symbol: 'BTCUSDT', id, price: 6_000_000, qty: 10_000, firstId: id, lastId: id, time: T0 + id * 50, buyerMaker: true } }, Date.now());
      id++;
    };
    print();
    this.timer = setInterval(print, 50);
  }
  async subscribe() {}
  async unsubscribe() {}
  async aggTradesFrom() {
    return [];
  }
  requestDepthSnapshot() {}
  async stop() {
    clearInterval(this.timer);
  }
}

/** The daemon process: launchDaemon on the local venue; reports its URL, then its CPU when asked. */
async function daemonProcess(dir) {
  const { launchDaemon } = await import('../dist/src/server/launch.js');
  const d = await launchDaemon({
    dataDir: dir,
    storeUrl: `sqlite:${dir}/qtrade.db`,
    binance: { wsUrl: 'ws://127.0.0.1:1', restUrl: 'http://127.0.0.1:1', net: {} },
    symbols: ['btcusdt'],
    host: '127.0.0.1',
    port: 0,
    account: 'default',
    logLevel: 'silent',
    announce: false,
    venue: new LocalVenue(),
  });
  let cpu0 = process.cpuUsage();
  process.on('message', async (m) => {
    if (m === 'mark') {
      cpu0 = process.cpuUsage();
      process.send({ mark: true });
    } else if (m === 'cpu') process.send({ cpu: process.cpuUsage(cpu0) });
    else if (m === 'stop') {
      await d.stop('bench done');
      process.send({ stopped: true }, () => process.exit(0));
    }
  });
  process.send({ url: d.url });
}

/**
 * The peer: a bare node:http server in a process of its own that reads each request and answers the
 * bytes the daemon answers a new LIMIT order with (its orderId counting up), and nothing else: no
 * routing, parsing, authentication, risk, matching or persistence. The floor of any Node HTTP API.
 */
function peerProcess() {
  let orderId = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const text = JSON.stringify({
        symbol: 'BTCUSDT',
        orderId: ++orderId,
        orderListId: -1,
        clientOrderId: `paper_${orderId}`,
        transactTime: T0,
        price: '50000.00000000',
        origQty: '0.00020000',
        executedQty: '0.00000000',
        origQuoteOrderQty: '0.00000000',
        cummulativeQuoteQty: '0.00000000',
        status: req.method === 'POST' ? 'NEW' : 'CANCELED',
        timeInForce: 'GTC',
        type: 'LIMIT',
        side: 'BUY',
        workingTime: T0,
        selfTradePreventionMode: 'NONE',
        fills: [],
      });
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
    });
  });
  let cpu0 = process.cpuUsage();
  process.on('message', (m) => {
    if (m === 'mark') {
      cpu0 = process.cpuUsage();
      process.send({ mark: true });
    } else if (m === 'cpu') process.send({ cpu: process.cpuUsage(cpu0) });
    else if (m === 'stop') server.close(() => process.send({ stopped: true }, () => process.exit(0)));
  });
  server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
}

/** The echo floor's server: every byte straight back. */
function echoProcess() {
  const server = net.createServer((c) => {
    c.setNoDelay(true);
    c.on('data', (d) => c.write(d));
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => m === 'stop' && process.exit(0));
}

/**
 * The machine's floor for any round trip: one byte over a loopback TCP connection to a process that
 * writes it straight back, on the same open-loop schedule and timer as the HTTP cases. What is left
 * at the tail is the two processes waking up (this VM delays some wake-ups by 1-5 ms).
 */
async function echoFloor() {
  const child = fork(new URL(import.meta.url), ['echo']);
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const sent = [];
  const lat = [];
  socket.on('data', (d) => {
    const end = performance.now();
    for (let i = 0; i < d.length; i++) lat.push(end - sent[lat.length]);
  });
  const total = RATE * SECONDS;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / RATE - performance.now();
    if (wait > 1) await sleep(wait);
    sent.push(performance.now());
    socket.write('x');
  }
  while (lat.length < total) await sleep(5);
  socket.destroy();
  child.send('stop');
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), p999: percentile(lat, 99.9) };
}

/**
 * The client: HTTP/1.1 keep-alive connections on raw sockets, one request at a time each, opened as
 * needed. A request is its bytes; an answer is its status, body and the moment its last byte was read.
 * Lean on purpose (node:http's client costs ~0.1 ms of this process's CPU per request and adds its own
 * garbage collection pauses to every case's tail); it reads Content-Length bodies, which all these
 * servers send.
 */
class ClientPool {
  idle = [];
  all = [];
  constructor(port) {
    this.port = port;
  }

  send(bytes) {
    return new Promise((resolve, reject) => this.dispatch({ bytes, resolve, reject, retried: false }));
  }

  dispatch(w) {
    let c = this.idle.pop();
    while (c && c.closed) c = this.idle.pop();
    c ??= this.open();
    c.waiting = w;
    c.socket.write(w.bytes);
  }

  open() {
    const socket = net.connect(this.port, '127.0.0.1');
    socket.setNoDelay(true);
    const c = { socket, buf: Buffer.alloc(0), waiting: undefined, closed: false };
    this.all.push(c);
    socket.on('error', () => {});
    // The server closes keep-alive connections idle for 5 s: a request written to one as it closed
    // never reached it and goes again on another connection (once).
    socket.on('close', () => {
      c.closed = true;
      const w = c.waiting;
      c.waiting = undefined;
      if (!w) return;
      if (w.retried || c.buf.length > 0) w.reject(new Error('connection closed before the answer'));
      else this.dispatch({ ...w, retried: true });
    });
    socket.on('data', (chunk) => {
      c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
      const head = c.buf.indexOf('\r\n\r\n');
      if (head === -1) return;
      const lines = c.buf.toString('latin1', 0, head).split('\r\n');
      const length = lines.find((l) => /^content-length:/i.test(l));
      if (!length) return c.waiting?.reject(new Error(`answer without Content-Length: ${lines[0]}`));
      const total = head + 4 + Number(length.slice(length.indexOf(':') + 1));
      if (c.buf.length < total) return;
      const end = performance.now();
      const text = c.buf.toString('utf8', head + 4, total);
      c.buf = c.buf.subarray(total);
      const w = c.waiting;
      c.waiting = undefined;
      this.idle.push(c);
      w?.resolve({ status: Number(lines[0].split(' ')[1]), text, end });
    });
    return c;
  }

  destroy() {
    for (const c of this.all) c.socket.destroy();
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(label, mode) {
  const auth = mode === 'hmac';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-bench-daemon-'));
  let creds;
  if (auth) {
    const { TokenStore } = await import('../dist/src/server/tokens.js');
    creds = new TokenStore(dir).create({ scope: 'trade', apiKey: true });
  }
  const child = fork(new URL(import.meta.url), mode === 'peer' ? ['peer'] : ['daemon', dir]);
  const next = (key) =>
    new Promise((resolve) => {
      const h = (m) => {
        if (key in m) {
          child.off('message', h);
          resolve(m);
        }
      };
      child.on('message', h);
    });
  const exited = new Promise((r) => child.once('exit', r));
  const { url: base } = await next('url');
  const url = new URL(base);
  const pool = new ClientPool(Number(url.port));
  const request = (method, query, due) => {
    let q = query;
    let headers = '';
    if (creds) {
      q += `&timestamp=${Date.now()}`;
      q += `&signature=${createHmac('sha256', creds.apiSecret).update(q).digest('hex')}`;
      headers = `X-MBX-APIKEY: ${creds.apiKey}\r\n`;
    }
    const started = performance.now();
    return pool.send(`${method} /api/v3/order?${q} HTTP/1.1\r\nHost: ${url.host}\r\n${headers}Content-Length: 0\r\n\r\n`).then(({ status, text, end }) => {
      const body = JSON.parse(text);
      return { ms: end - started, fromDue: end - (due ?? started), status, body, what: `${method} answered ${status}: ${text}` };
    });
  };

  try {
    // Warm-up: JIT, SQLite pages, sockets.
    for (let i = 0; i < 300; i++) {
      const placed = await request('POST', `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00020&price=50000`);
      if (placed.status !== 200) throw new Error(placed.what);
      const canceled = await request('DELETE', `symbol=BTCUSDT&orderId=${placed.body.orderId}`);
      if (canceled.status !== 200) throw new Error(canceled.what);
    }
    child.send('mark');
    await next('mark');
    const total = RATE * SECONDS;
    const lat = [];
    const fromDue = [];
    /** Orders placed and not yet canceled, oldest first: each one's orderId once acknowledged. */
    const placed = [];
    let posts = 0;
    let cancels = 0;
    let deferred = 0;
    const pending = [];
    // Answers other than 200 are counted and shown (e.g. MAX_NUM_ORDERS when the daemon stalls with
    // 200 orders in flight); their round trips count like any other.
    const errors = [];
    const record = (r) => {
      if (r.status !== 200) errors.push(r.what);
      lat.push(r.ms);
      fromDue.push(r.fromDue);
      return r;
    };
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      if (i % 2 === 1) {
        // Cancel the oldest order; if its POST has not been answered yet, right after it is.
        const p = placed.shift();
        cancels++;
        if (!p.acked) deferred++;
        pending.push(p.id.then((id) => id !== undefined && request('DELETE', `symbol=BTCUSDT&orderId=${id}`, due).then(record)));
      } else {
        posts++;
        const p = { acked: false, id: undefined };
        p.id = request('POST', `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00020&price=50000`, due)
          .then(record)
          .then((r) => {
            p.acked = true;
            return r.status === 200 ? r.body.orderId : undefined;
          });
        placed.push(p);
        pending.push(p.id);
      }
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - start) / 1000;
    child.send('cpu');
    const { cpu } = await next('cpu');
    lat.sort((a, b) => a - b);
    fromDue.sort((a, b) => a - b);
    return {
      label,
      n: lat.length,
      posts,
      cancels,
      deferred,
      errors,
      achieved: lat.length / elapsed,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      p999: percentile(lat, 99.9),
      max: lat[lat.length - 1],
      dueP99: percentile(fromDue, 99),
      daemonCpu: (cpu.user + cpu.system) / 1e6 / elapsed,
    };
  } finally {
    pool.destroy();
    child.send('stop');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const load0 = os.loadavg()[0];
  const only = process.env.BENCH_ONLY;
  const cases = [
    ['qtrade daemon, open (loopback, no tokens)', 'open'],
    ['qtrade daemon, X-MBX-APIKEY + HMAC signature', 'hmac'],
    ['bare node:http, same response bytes (peer, floor)', 'peer'],
  ].filter(([label, mode]) => !only || label.includes(only) || mode === only);
  const rows = [];
  for (const [label, mode] of cases) rows.push(await run(label, mode));
  const echo = only ? undefined : await echoFloor();
  console.log(`Order round trip over HTTP at ${RATE}/s open loop for ${SECONDS} s (new LIMIT GTC orders, and cancels of the oldest`);
  console.log('acknowledged one); server in its own process, client in this one\n');
  const peer = rows.find((r) => r.label.includes('peer'));
  const f = (x) => `${x.toFixed(2)} ms`;
  const table = rows.map((r) => [
    r.label,
    `${r.n}`,
    `${r.achieved.toFixed(0)}/s`,
    f(r.p50),
    f(r.p99),
    f(r.p999),
    f(r.max),
    f(r.dueP99),
    `${(r.daemonCpu * 100).toFixed(0)} %`,
    peer ? `${(r.p99 / peer.p99).toFixed(1)}×` : '',
    r.label.includes('peer') ? '' : `${r.p99 <= 2 ? 'met' : 'NOT met'}`,
  ]);
  const head = ['case', 'requests', 'rate', 'p50', 'p99', 'p99.9', 'max', 'p99 from due time', 'server CPU', 'p99 vs peer', 'p99 ≤ 2 ms'];
  const w = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  console.log(`| ${head.map((h, i) => h.padEnd(w[i])).join(' | ')} |`);
  console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|')}|`);
  for (const row of table) console.log(`| ${row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`);
  console.log('');
  for (const r of rows) if (r.deferred > 0) console.log(`${r.label}: ${r.deferred} of ${r.cancels} cancels waited for their order's answer`);
  for (const r of rows) if (r.errors.length > 0) console.log(`${r.label}: ${r.errors.length} requests refused, e.g. ${r.errors[0]}`);
  if (echo) {
    console.log(
      `floor: a 1-byte TCP echo between two processes at ${RATE}/s: p50 ${f(echo.p50)}, p99 ${f(echo.p99)}, p99.9 ${f(echo.p999)} ` +
        `(no HTTP, no JavaScript work: the machine's wake-ups)`,
    );
  }
  console.log(`\nload average (1 min) at the start ${load0.toFixed(1)}, at the end ${os.loadavg()[0].toFixed(1)}, on ${os.cpus().length} CPUs`);
}

if (process.argv[2] === 'daemon') await daemonProcess(process.argv[3]);
else if (process.argv[2] === 'peer') peerProcess();
else if (process.argv[2] === 'echo') echoProcess();
else await main();
