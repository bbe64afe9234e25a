#!/usr/bin/env node
// The daemon's WebSocket fan-out. Imports the build output (dist/): run `npm run build` first.
//
// 500 clients (BENCH_CLIENTS) on loopback subscribe to btcusdt@aggTrade, and a 1,000 msgs/s
// (BENCH_RATE) trade stream runs for BENCH_SECONDS (default 10) after a warm-up, through:
//   (a) qtrade: a TradingNode (SQLite store, bundled exchangeInfo) on a venue that hands each trade to
//       the kernel's sink as the Binance adapter does (trade sequencer → candle synthesizer → paper
//       account → bus), and the daemon's HTTP server from startApiServer with its stream server
//       (src/server/ws.ts): one bus subscription, one encoding and one frame per event, per-client
//       queues written in one go per flush, bounded buffers; (a') the same with flushIntervalMs 0;
//   (b) the peer: `ws`'s own broadcast idiom on a plain WebSocketServer (the payload string built once,
//       `client.send(text)` for every open client, no bound on buffers), the same payload text.
// Processes: the server (and the 1k/s publisher feeding it) runs in a child process of its own; the
// clients run in this process as lean raw-socket WebSocket clients (handshake, frame parser, pong), so
// the server's event loop carries nothing but the server and the clients' parsing is not charged to
// it. Latency of a message = its arrival at a client minus the moment it was due on the 1k/s schedule
// (the publisher hands it to the pipeline then, or later when it falls behind), both read from
// CLOCK_MONOTONIC (process.hrtime), which every process on the machine shares; the schedule's start is
// fixed by this process and sent to the server before the first message. Every message to every
// client is measured. Every client checks its ids are gapless and in order; a gap or a close is
// counted as a drop. Also shown: the server process's event-loop utilisation and CPU (user + system)
// during the timed run, and this (client) process's CPU. A last line measures the floor every server
// shares: one plain 200-byte socket write to each client (a child process reads them).
// BENCH_ONLY=<text> runs only the cases whose name contains it; BENCH_SERVER_ARGS="--cpu-prof ..."
// passes node options to the server process (profiling).
// Target: p99 ≤ 10 ms with zero drops.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fork } from 'node:child_process';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 500);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const MEASURED = Math.round(RATE * SECONDS);
const TOTAL = WARMUP + MEASURED;
const FIRST_ID = 5_000_000_000; // a real-sized aggTrade id
/** Latency histogram: 10 µs buckets up to 1 s, then 1 ms buckets up to 200 s (the last one takes anything beyond). */
const FINE = 100_000;
const BUCKETS = FINE + 199_000;
const bucketOf = (us) => (us < 1_000_000 ? Math.max(0, Math.floor(us / 10)) : Math.min(BUCKETS - 1, FINE + Math.floor((us - 1_000_000) / 1000)));
const bucketTopMs = (i) => (i < FINE ? ((i + 1) * 10) / 1000 : 1000 + (i - FINE + 1));
/** CLOCK_MONOTONIC in µs: one clock for every process on the machine. */
const nowUs = () => Number(process.hrtime.bigint()) / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const CASES = [
  { key: 'daemon', name: 'qtrade daemon (TradingNode → bus → stream server)' },
  { key: 'flush0', name: 'qtrade, flushIntervalMs 0' },
  { key: 'peer', name: 'ws broadcast idiom (peer, unbounded buffers)' },
];

// ------------------------------------------------------------------ server process

/** (a) the daemon's stack: TradingNode + startApiServer, trades handed to the kernel like the Binance adapter's. */
async function qtradeServer(streamOpts) {
  const [{ TradingNode }, { LiveClock }, { bundledMarketInfo }, { openStore }, { startApiServer }, { attachStreams }, { Counters }, { TokenAuthenticator, TokenStore }, pino] = await Promise.all([
    import('../dist/src/engine/node.js'),
    import('../dist/src/engine/clock.js'),
    import('../dist/src/engine/market/market-info.js'),
    import('../dist/src/engine/store/open.js'),
    import('../dist/src/server/app.js'),
    import('../dist/src/server/ws.js'),
    import('../dist/src/server/counters.js'),
    import('../dist/src/server/tokens.js'),
    import('pino'),
  ]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-ws-bench-'));
  const store = await openStore(`sqlite:${dir}/qtrade.db`);
  const market = bundledMarketInfo();
  let sink;
  const venue = {
    name: 'bench',
    start: async (_symbols, _channels, s) => void (sink = s),
    subscribe: async () => {},
    unsubscribe: async () => {},
    aggTradesFrom: async () => [],
    requestDepthSnapshot: () => {},
    stop: async () => {},
  };
  const node = await TradingNode.open({ store, instruments: market.instruments, exchangeSymbols: market.symbols, venue, clock: new LiveClock(), symbols: ['BTCUSDT'], channels: ['aggTrade'] });
  const counters = new Counters();
  const ctx = {
    node,
    auth: new TokenAuthenticator(new TokenStore(dir)),
    log: pino.default({ level: 'silent' }),
    counters,
    wallNow: Date.now,
    version: 'bench',
    startedAt: Date.now(),
    probes: [],
    shutdown: () => {},
  };
  // The daemon's own server (default options), or the stream server alone with other options.
  let api;
  if (streamOpts === undefined) api = await startApiServer(ctx, '127.0.0.1', 0);
  else {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const streams = attachStreams(server, ctx, streamOpts);
    api = {
      port: server.address().port,
      close: async () => {
        await streams.close();
        await new Promise((r) => server.close(r));
      },
    };
  }
  await node.start();
  return {
    port: api.port,
    clients: () => counters.clients,
    publish: (id, time) => sink.event({ kind: 'trade', trade: { symbol: 'BTCUSDT', id, price: 4_200_000 + (id % 100), qty: 1_234, firstId: id, lastId: id, time, buyerMaker: id % 2 === 0 } }, time),
    dropped: () => [...counters.dropped.values()].reduce((a, b) => a + b, 0),
    close: async () => {
      await api.close();
      await node.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** (b) the peer: ws's broadcast idiom, payload text built once per message (same text as qtrade's). */
async function peerServer() {
  const [{ WebSocketServer, WebSocket }, { aggTradeJson }, { bundledMarketInfo }] = await Promise.all([
    import('ws'),
    import('../dist/src/server/stream-payloads.js'),
    import('../dist/src/engine/market/market-info.js'),
  ]);
  const inst = bundledMarketInfo().instruments.get('BTCUSDT');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  return {
    port: wss.address().port,
    clients: () => wss.clients.size,
    publish: (id, time) => {
      const text = aggTradeJson({ symbol: 'BTCUSDT', id, price: 4_200_000 + (id % 100), qty: 1_234, firstId: id, lastId: id, time, buyerMaker: id % 2 === 0 }, inst);
      for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(text);
    },
    dropped: () => 0,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

/** The server process: builds one case's server, then answers the orchestrator's commands over IPC. */
async function serverProcess(key) {
  const server = key === 'peer' ? await peerServer() : await qtradeServer(key === 'flush0' ? { flushIntervalMs: 0 } : undefined);
  let mark;
  process.on('message', async (m) => {
    if (m.cmd === 'wait') {
      while (server.clients() < m.n) await sleep(10);
      process.send({ cmd: 'wait' });
    } else if (m.cmd === 'pace') {
      // Message k is due at t0 + (k - from)/RATE and handed to the pipeline as soon as the loop sees it due.
      const { from, to, t0 } = m;
      while (nowUs() < t0 - 1500) await sleep(1);
      while (nowUs() < t0);
      let k = from;
      while (k < to) {
        const due = Math.min(to, from + 1 + Math.floor(((nowUs() - t0) * RATE) / 1e6));
        for (; k < due; k++) server.publish(FIRST_ID + k, 1_704_067_200_000 + k);
        if (k < to) await sleep(1);
      }
      process.send({ cmd: 'pace', seconds: (nowUs() - t0) / 1e6 });
    } else if (m.cmd === 'mark') {
      mark = { elu: performance.eventLoopUtilization(), cpu: process.cpuUsage() };
      process.send({ cmd: 'mark' });
    } else if (m.cmd === 'measure') {
      const elu = performance.eventLoopUtilization(mark.elu);
      const cpu = process.cpuUsage(mark.cpu);
      process.send({ cmd: 'measure', busy: elu.utilization, cpu, dropped: server.dropped() });
    } else if (m.cmd === 'close') {
      await server.close();
      process.send({ cmd: 'close' }, () => process.exit(0));
    }
  });
  process.send({ cmd: 'ready', port: server.port });
}

// ------------------------------------------------------------------ clients (this process)

function makeClients(port, wsPath, n) {
  const hist = new Uint32Array(BUCKETS);
  const clients = [];
  /** The timed phase's schedule: message k (k ≥ WARMUP) was due at t0 + (k - WARMUP)/RATE. */
  const timed = { t0: Infinity };
  const usPerMsg = 1e6 / RATE;

  function open(i) {
    return new Promise((resolve, reject) => {
      const key = randomBytes(16).toString('base64');
      const s = net.connect(port, '127.0.0.1');
      const c = { s, upgraded: false, pending: null, next: FIRST_ID, received: 0, gaps: 0, closed: null };
      clients[i] = c;
      s.setNoDelay(true);
      s.on('error', (err) => (c.closed ??= `socket error ${err.message}`));
      s.on('close', () => (c.closed ??= 'socket closed'));
      s.on('connect', () => s.write(`GET ${wsPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
      s.on('data', (chunk) => {
        let buf = c.pending ? Buffer.concat([c.pending, chunk]) : chunk;
        c.pending = null;
        if (!c.upgraded) {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return void (c.pending = buf);
          const head = buf.subarray(0, end).toString('latin1');
          if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
          c.upgraded = true;
          buf = buf.subarray(end + 4);
          resolve();
        }
        frames(c, buf);
      });
    });
  }

  function frames(c, buf) {
    let off = 0;
    const now = nowUs();
    while (buf.length - off >= 2) {
      const b0 = buf[off];
      let len = buf[off + 1] & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - off < 10) break;
        len = buf.readUInt32BE(off + 6);
        head = 10;
      }
      if (buf.length - off < head + len) break;
      const p = off + head;
      const opcode = b0 & 0x0f;
      if (opcode === 1) onText(c, buf, p, p + len, now);
      else if (opcode === 9) {
        // Pong with the ping's payload, masked (client frames must be) with a zero key.
        const pong = Buffer.alloc(6 + len);
        pong[0] = 0x8a;
        pong[1] = 0x80 | len;
        buf.copy(pong, 6, p, p + len);
        c.s.write(pong);
      } else if (opcode === 8) c.closed ??= `close ${len >= 2 ? buf.readUInt16BE(p) : ''} ${buf.toString('utf8', p + 2, p + len)}`;
      off = p + len;
    }
    if (off < buf.length) c.pending = Buffer.from(buf.subarray(off));
  }

  function onText(c, buf, start, end, now) {
    // The id follows `"a":` (0x22 0x61 0x22 0x3a) near the start of an aggTrade payload.
    let i = start;
    while (i < end && !(buf[i] === 0x3a && buf[i - 1] === 0x22 && buf[i - 2] === 0x61 && buf[i - 3] === 0x22)) i++;
    if (i >= end) {
      c.gaps++;
      return;
    }
    i++;
    let id = 0;
    for (let ch = buf[i]; ch >= 48 && ch <= 57; ch = buf[++i]) id = id * 10 + (ch - 48);
    if (id !== c.next) c.gaps++;
    c.next = id + 1;
    c.received++;
    const k = id - FIRST_ID;
    if (k >= WARMUP) hist[bucketOf(now - (timed.t0 + (k - WARMUP) * usPerMsg))]++;
  }

  return {
    hist,
    timed,
    connect: async () => {
      for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => open(i + j)));
    },
    progress: () => {
      let min = Infinity;
      let closed = 0;
      for (const c of clients) {
        if (c.received < min) min = c.received;
        if (c.closed) closed++;
      }
      return { min, closed };
    },
    received: () => clients.reduce((a, c) => a + c.received, 0),
    gaps: () => clients.reduce((a, c) => a + c.gaps, 0),
    closes: () => clients.filter((c) => c.closed).map((c) => c.closed),
    destroy: () => {
      for (const c of clients) c.s.destroy();
    },
  };
}

// ------------------------------------------------------------------ orchestration (this process)

function percentile(hist, count, q) {
  const want = Math.ceil(count * q);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= want) return bucketTopMs(i); // the bucket's upper bound
  }
  return Infinity;
}

const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (x) => `${x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(2)}×`;

async function runCase({ key, name }) {
  const execArgv = process.env.BENCH_SERVER_ARGS ? process.env.BENCH_SERVER_ARGS.split(' ').filter(Boolean) : [];
  const child = fork(new URL(import.meta.url), ['server', key], { execArgv });
  const replies = new Map();
  child.on('message', (m) => {
    const r = replies.get(m.cmd);
    if (r) {
      replies.delete(m.cmd);
      r(m);
    }
  });
  const exited = new Promise((r) => child.once('exit', r));
  const expect = (cmd) => new Promise((r) => replies.set(cmd, r));
  const ask = (m) => {
    const p = expect(m.cmd);
    child.send(m);
    return p;
  };
  const { port } = await expect('ready');
  const clients = makeClients(port, '/ws/btcusdt@aggTrade', CLIENTS);
  try {
    await clients.connect();
    await ask({ cmd: 'wait', n: CLIENTS });
    const drain = async (upTo) => {
      const end = Date.now() + 60_000;
      for (;;) {
        const p = clients.progress();
        if (p.min >= upTo || p.closed > 0 || Date.now() > end) return;
        await sleep(20);
      }
    };
    await ask({ cmd: 'pace', from: 0, to: WARMUP, t0: nowUs() + 20_000 });
    await drain(WARMUP);
    await ask({ cmd: 'mark' });
    const cpu0 = process.cpuUsage();
    clients.timed.t0 = nowUs() + 20_000;
    const paced = await ask({ cmd: 'pace', from: WARMUP, to: TOTAL, t0: clients.timed.t0 });
    await drain(TOTAL);
    const cpu = process.cpuUsage(cpu0);
    const m = await ask({ cmd: 'measure' });
    const count = clients.hist.reduce((a, b) => a + b, 0);
    const wall = paced.seconds * 1e6;
    return {
      name,
      p50: percentile(clients.hist, count, 0.5),
      p99: percentile(clients.hist, count, 0.99),
      p999: percentile(clients.hist, count, 0.999),
      max: percentile(clients.hist, count, 1),
      delivered: clients.received(),
      expected: CLIENTS * TOTAL,
      gaps: clients.gaps(),
      closes: clients.closes(),
      busy: m.busy,
      serverCpu: (m.cpu.user + m.cpu.system) / wall,
      serverKernel: m.cpu.system / (m.cpu.user + m.cpu.system),
      clientCpu: (cpu.user + cpu.system) / wall,
      rate: MEASURED / paced.seconds,
      dropped: m.dropped,
    };
  } finally {
    clients.destroy();
    await ask({ cmd: 'close' });
    await exited;
  }
}

/** One plain write to each of CLIENTS sockets, repeated: CPU per write (this process only) and wall time per round. */
async function writeFloor() {
  const socks = [];
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    socks.push(s);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const child = fork(new URL(import.meta.url), ['sink', String(srv.address().port), String(CLIENTS)]);
  await new Promise((r) => child.once('message', r));
  while (socks.length < CLIENTS) await sleep(5);
  const buf = Buffer.alloc(200, 120);
  const rounds = 400;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < rounds; k++) {
    for (const s of socks) s.write(buf);
    await new Promise((r) => setImmediate(r));
  }
  const wallMs = (performance.now() - t0) / rounds;
  const cpu = process.cpuUsage(cpu0);
  child.kill();
  for (const s of socks) s.destroy();
  await new Promise((r) => srv.close(r));
  const n = rounds * CLIENTS;
  return { wallMs, cpuUs: (cpu.user + cpu.system) / n, kernel: cpu.system / (cpu.user + cpu.system) };
}

function sink(port, n) {
  let connected = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('connect', () => ++connected === n && process.send('ready'));
  }
}

async function main() {
  const load0 = os.loadavg()[0];
  console.log(`${CLIENTS} clients × ${RATE} msgs/s for ${SECONDS} s (after ${WARMUP} warm-up messages), loopback, btcusdt@aggTrade;`);
  console.log('server in its own process, clients in this one; latency = arrival − due time on CLOCK_MONOTONIC');
  console.log('');
  const results = [];
  for (const c of CASES.filter((c) => !process.env.BENCH_ONLY || c.name.includes(process.env.BENCH_ONLY) || c.key === process.env.BENCH_ONLY)) {
    results.push(await runCase(c));
  }
  const peer = results[results.length - 1];
  const rows = results.map((r) => [
    r.name,
    `${ms(r.p50)} ms`,
    `${ms(r.p99)} ms`,
    `${ms(r.p999)} ms`,
    `${ms(r.max)} ms`,
    `${(r.rate / 1000).toFixed(2)} k/s`,
    `${r.delivered.toLocaleString('en-US')} / ${r.expected.toLocaleString('en-US')}`,
    `${r.gaps + r.closes.length + r.dropped}`,
    `${(r.busy * 100).toFixed(0)} %`,
    `${(r.serverCpu * 100).toFixed(0)} % (${(r.serverKernel * 100).toFixed(0)} % sys)`,
    `${(r.clientCpu * 100).toFixed(0)} %`,
    r === peer ? '1×' : `${ratio(peer.p99 / r.p99)} lower`,
  ]);
  const head = ['case', 'p50', 'p99', 'p99.9', 'max', 'rate reached', 'delivered', 'drops', 'server loop busy', 'server CPU', 'clients CPU', 'p99 vs peer'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  console.log(`| ${head.map((h, i) => h.padEnd(w[i])).join(' | ')} |`);
  console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`);
  console.log('');
  for (const r of results) if (r.closes.length > 0) console.log(`${r.name}: ${r.closes.length} clients closed, e.g. ${r.closes[0]}`);
  const q = results[0];
  if (q && q !== peer) {
    const ok = q.p99 <= 10 && q.gaps === 0 && q.closes.length === 0 && q.dropped === 0 && q.delivered === q.expected;
    console.log(`target p99 ≤ 10 ms with zero drops: ${ok ? 'met' : 'NOT met'} (p99 ${ms(q.p99)} ms, ${q.delivered === q.expected ? 'every message delivered' : `${q.expected - q.delivered} messages missing`})`);
  }
  const floor = await writeFloor();
  console.log(
    `floor: one 200-byte write to each of ${CLIENTS} loopback sockets takes ${ms(floor.wallMs)} ms per round, ` +
      `${floor.cpuUs.toFixed(1)} µs of CPU per write (${(floor.kernel * 100).toFixed(0)} % in the kernel)`,
  );
  console.log(`load average (1 min) at the start ${load0.toFixed(1)}, at the end ${os.loadavg()[0].toFixed(1)}, on ${os.cpus().length} CPUs`);
}

if (process.argv[2] === 'server') await serverProcess(process.argv[3]);
else if (process.argv[2] === 'sink') sink(Number(process.argv[3]), Number(process.argv[4]));
else await main();
