#!/usr/bin/env node
// Order round trip over the daemon's HTTP API. Imports the build output (dist/): run `npm run build` first.
//
// A whole daemon (launchDaemon: SQLite event log, risk engine, paper matching, the HTTP layer with
// request parsing and authentication) runs in this process on a loopback port, its market from a
// local venue that delivers a BTCUSDT depth snapshot and trades (no network). A client in the same
// process sends POST /api/v3/order at a fixed open-loop rate (BENCH_RATE, default 1000/s: each
// request leaves at its scheduled time whether or not earlier ones answered), alternating a LIMIT GTC
// buy that rests below the market and the DELETE /api/v3/order that cancels it, over keep-alive
// connections. Round trip = request sent → response body read; an order is acknowledged only after
// its events are durable in the log. Two cases: an open loopback daemon (no tokens) and Binance-style
// auth (X-MBX-APIKEY + HMAC-SHA256 signature checked per request). Target: p99 ≤ 2 ms at 1k orders/s.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { launchDaemon } from '../dist/src/server/launch.js';
import { TokenStore } from '../dist/src/server/tokens.js';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const T0 = Date.parse('2024-08-08T12:00:00Z');

/** A market-data venue with one synced BTCUSDT book around 60000 and a trade print every 50 ms of event time. */
class LocalVenue {
  name = 'local';
  timer = undefined;
  async start(symbols, _channels, sink) {
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

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(label, auth) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-bench-daemon-'));
  let creds;
  if (auth) creds = new TokenStore(dir).create({ scope: 'trade', apiKey: true });
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const url = new URL(d.url);
  const request = (method, query) =>
    new Promise((resolve, reject) => {
      let q = query;
      const headers = {};
      if (creds) {
        q += `&timestamp=${Date.now()}`;
        q += `&signature=${createHmac('sha256', creds.apiSecret).update(q).digest('hex')}`;
        headers['x-mbx-apikey'] = creds.apiKey;
      }
      const started = process.hrtime.bigint();
      const req = http.request({ host: url.hostname, port: url.port, method, path: `/api/v3/order?${q}`, agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const body = JSON.parse(Buffer.concat(chunks).toString());
          if (res.statusCode !== 200) reject(new Error(`${method} answered ${res.statusCode}: ${JSON.stringify(body)}`));
          else resolve({ ms, body });
        });
      });
      req.on('error', reject);
      req.end();
    });

  // Warm-up: JIT, SQLite pages, sockets.
  for (let i = 0; i < 200; i++) {
    const { body } = await request('POST', `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00020&price=50000`);
    await request('DELETE', `symbol=BTCUSDT&orderId=${body.orderId}`);
  }
  const total = RATE * SECONDS;
  const lat = [];
  const pending = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (i % 2 === 0) {
      pending.push(
        request('POST', `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00020&price=50000&newClientOrderId=b${i}`).then((r) => lat.push(r.ms)),
      );
    } else {
      pending.push(request('DELETE', `symbol=BTCUSDT&origClientOrderId=b${i - 1}`).then((r) => lat.push(r.ms)));
    }
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  await d.stop('bench done');
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return { label, n: lat.length, achieved: lat.length / elapsed, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] };
}

const rows = [await run('open loopback daemon', false), await run('X-MBX-APIKEY + HMAC signature', true)];
console.log(`Order round trip over HTTP at ${RATE}/s open loop for ${SECONDS} s (half new LIMIT GTC orders, half cancels)\n`);
console.log('| case | requests | achieved | p50 | p99 | max | p99 vs 2 ms target |');
console.log('|------|---------:|---------:|----:|----:|----:|-------------------:|');
for (const r of rows) {
  console.log(`| ${r.label} | ${r.n} | ${r.achieved.toFixed(0)}/s | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.max.toFixed(2)} ms | ${(r.p99 / 2).toFixed(2)}× |`);
}
