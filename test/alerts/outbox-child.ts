/**
 * A process that runs alerts and their outbox on a store, for the kill -9 test: `fire` makes an
 * alert fire, reports once the firing is durable and then keeps retrying delivery until killed;
 * `deliver` only opens the outbox (as a restarted qtrade would) and exits once it is empty.
 * Usage: node --import tsx outbox-child.ts <fire|deliver> <storeUrl> <webhookUrl> <secret>
 */
import { Bus } from '../../src/engine/bus.js';
import { SimClock } from '../../src/engine/clock.js';
import { AlertService } from '../../src/engine/alerts/service.js';
import { bundledInstruments } from '../../src/engine/market/bundled-instruments.js';
import { openStore } from '../../src/engine/store/open.js';
import { Notifier } from '../../src/notify/notifier.js';

const [phase, storeUrl, webhookUrl, secret] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore(storeUrl);
const bus = new Bus();
const late: { notifier?: Notifier } = {};
const alerts = await AlertService.open({ bus, clock: new SimClock(), instruments: bundledInstruments(), store, persist: true, onDurable: (d) => late.notifier?.enqueue(d) });
const notifier = (late.notifier = await Notifier.start({
  store,
  log: alerts.log!,
  config: { webhook: { url: webhookUrl, secret, format: 'json' }, telegram: undefined, bell: false },
  backoff: { baseMs: 50, maxMs: 200 },
  report: (level, m) => process.stderr.write(`${level}: ${m}\n`),
}));
if (phase === 'fire') {
  await alerts.add({ symbol: 'BTCUSDT', condition: 'price > 61000', untilCancelled: true, notify: 'webhook' }, 1);
  const trade = (id: number, price: number) => bus.publish('trade', { symbol: 'BTCUSDT', id, price, qty: 1, firstId: id, lastId: id, time: 1723161300000 + id, buyerMaker: false });
  trade(1, 60_999_00);
  trade(2, 61_000_01);
  await alerts.settled();
  process.stdout.write('durable\n');
  setInterval(() => {}, 1000); // keep retrying until killed
} else {
  await notifier.outbox.idle();
  await notifier.close();
  await store.close();
  process.stdout.write('idle\n');
}
