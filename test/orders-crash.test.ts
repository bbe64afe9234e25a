import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEvent, ledgerEntries, type OrderEvent } from '../src/engine/orders/events.js';
import { bundledMarket } from '../src/engine/orders/bundled-filters.js';
import { PaperEngine } from '../src/engine/orders/paper-engine.js';
import { OrderService } from '../src/engine/orders/service.js';
import type { Amount } from '../src/engine/orders/types.js';
import { acquireAccountLock, readLockOwner } from '../src/engine/store/lock.js';
import { SqliteStore } from '../src/engine/store/sqlite.js';
import { ROOT, tempDir } from './helpers/cli.js';

const FLOOD = path.join(ROOT, 'test/helpers/order-flood.mjs');
const ORDERS = 10_000;
/** Kill once this many calls were acknowledged; the flood slows down from here on (see order-flood.mjs). */
const KILL_AFTER = 3_000;

const tmp = tempDir('qtrade-crash-');
afterAll(() => tmp.cleanup());

interface Flood {
  lines: string[];
  signal: NodeJS.Signals | null;
  code: number | null;
  pid: number;
}

/** Runs the flood and SIGKILLs it after KILL_AFTER acknowledgements. Only complete lines count. */
function floodAndKill(file: string, dataDir: string): Promise<Flood> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLOOD, file, dataDir, String(ORDERS), '7', String(KILL_AFTER)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let stderr = '';
    let acks = 0;
    let killed = false;
    const lines: string[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (l.startsWith('A ') || l.startsWith('C ')) acks++;
      }
      if (!killed && acks >= KILL_AFTER) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!killed) reject(new Error(`flood ended before it was killed (code ${code}, signal ${signal}): ${stderr}`));
      else resolve({ lines, signal, code, pid: child.pid! });
    });
  });
}

describe('kill -9 during a 10k-order flood', () => {
  it('loses no acknowledged order, cancel or fill, duplicates none, and reconciles balances to the last unit', async () => {
    if (!fs.existsSync(path.join(ROOT, 'dist/src/engine/orders/service.js'))) {
      throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
    }
    const file = path.join(tmp.dir, 'paper.db');
    const flood = await floodAndKill(file, tmp.dir);
    expect(flood.signal).toBe('SIGKILL');
    expect(flood.lines[0]).toBe(`READY ${flood.pid}`);
    expect(flood.lines.some((l) => l.startsWith('DONE'))).toBe(false);

    // The dead writer's lock is stale: the restarted process takes it over.
    expect(readLockOwner(path.join(tmp.dir, 'locks', 'default.lock'))?.pid).toBe(flood.pid);
    const lock = await acquireAccountLock({ dataDir: tmp.dir, account: 'default' });
    const store = new SqliteStore(file);
    await store.migrate();
    const { instruments, filters } = bundledMarket();
    const svc = await OrderService.open({ store, instruments, filters, lock });

    const log: OrderEvent[] = (await store.readEvents(svc.stream)).map((r) => decodeEvent(r.body));
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));

    const accepted = new Map<number, string>();
    const clientIds = new Set<string>();
    const fills = new Map<number, string>();
    const canceled = new Set<number>();
    const rejected = new Set<string>();
    for (const e of log) {
      if (e.kind === 'accepted') {
        expect(accepted.has(e.order.orderId)).toBe(false);
        expect(clientIds.has(e.order.clientOrderId)).toBe(false);
        accepted.set(e.order.orderId, e.order.clientOrderId);
        clientIds.add(e.order.clientOrderId);
      } else if (e.kind === 'fill') {
        expect(fills.has(e.fill.tradeId)).toBe(false);
        fills.set(e.fill.tradeId, `${e.fill.orderId} ${e.fill.qty} ${e.fill.price}`);
      } else if (e.kind === 'canceled') canceled.add(e.orderId);
      else if (e.kind === 'rejected' && e.clientOrderId !== undefined) rejected.add(e.clientOrderId);
    }
    expect([...fills.keys()]).toEqual(Array.from({ length: fills.size }, (_, i) => i + 1));

    // Everything the flood printed was acknowledged, so it must all be in the log, exactly.
    const counts = { A: 0, C: 0, F: 0, R: 0 };
    const seenFill = new Set<number>();
    for (const l of flood.lines.slice(1)) {
      const [k, a, b, c, d] = l.split(' ');
      if (k === 'A') {
        counts.A++;
        expect(accepted.get(Number(a)), l).toBe(b);
      } else if (k === 'C') {
        counts.C++;
        expect(canceled.has(Number(a)), l).toBe(true);
      } else if (k === 'F') {
        counts.F++;
        expect(seenFill.has(Number(a)), `${l} printed twice`).toBe(false);
        seenFill.add(Number(a));
        expect(fills.get(Number(a)), l).toBe(`${b} ${c} ${d}`);
      } else if (k === 'R') {
        counts.R++;
        expect(rejected.has(a!), l).toBe(true);
      } else throw new Error(`unexpected line from the flood: ${l}`);
    }
    expect(counts.A + counts.C).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(counts.A).toBeLessThan(ORDERS);
    expect(counts.F).toBeGreaterThan(100);
    expect(counts.C).toBeGreaterThan(10);

    // Balances are the initial ones plus the ledger, to the last unit; locks are the open orders'.
    const sum = new Map<string, { free: Amount; locked: Amount }>();
    for (const [asset, amount] of Object.entries(svc.initialBalances)) sum.set(asset, { free: amount, locked: 0n });
    for (const entry of log.flatMap(ledgerEntries)) {
      const s = sum.get(entry.asset) ?? { free: 0n, locked: 0n };
      s.free += entry.dFree;
      s.locked += entry.dLocked;
      sum.set(entry.asset, s);
    }
    expect(svc.balances().map((b) => [b.asset, b.free, b.locked])).toEqual([...sum.entries()].sort((x, y) => x[0].localeCompare(y[0])).map(([a, s]) => [a, s.free, s.locked]));
    const lockedByOrders = new Map<string, Amount>();
    for (const o of svc.openOrders()) lockedByOrders.set(o.lockAsset, (lockedByOrders.get(o.lockAsset) ?? 0n) + o.locked);
    for (const b of svc.balances()) expect(b.locked, b.asset).toBe(lockedByOrders.get(b.asset) ?? 0n);
    for (const b of svc.balances()) expect(b.free >= 0n, b.asset).toBe(true);

    // The service's rebuilt state is exactly the pure engine's over the same log.
    const pure = PaperEngine.fromEvents({ instruments: instruments.all(), filters, initialBalances: { ...svc.initialBalances } }, log);
    expect(svc.snapshot()).toEqual(pure.snapshot());

    // And it carries on: an acknowledged clientOrderId is still known, new orders continue the log.
    const lastAck = flood.lines.filter((l) => l.startsWith('A ')).pop()!.split(' ');
    const dup = await svc.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 5_000_000, qty: 100_000, clientOrderId: lastAck[2] }, Date.parse('2024-08-09T00:00:00Z'));
    expect(dup).toMatchObject({ duplicate: true, order: { orderId: Number(lastAck[1]) } });
    const next = await svc.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 5_000_000, qty: 100_000, clientOrderId: 'after-crash' }, Date.parse('2024-08-09T00:00:00Z'));
    expect(next.ok).toBe(true);
    expect(next.events[0]!.seq).toBe(log.length + 1);
    await svc.close();
    expect(fs.existsSync(lock.file)).toBe(false);
    await store.close();
  });
});
