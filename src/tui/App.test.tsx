import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, renderTui, tick, until } from './testing/harness.js';
import { GENERATED, replayed } from './testing/sessions.js';
import type { ReplaySession } from './replay-session.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
});
afterAll(async () => {
  await session?.close();
});

describe('order entry', () => {
  it('types an order', async () => {
    const r = renderTui(session.source, undefined, { columns: 150, rows: 42 });
    await until(r, (f) => f.includes('Order entry'), 'app');
    r.write('b');
    await tick();
    for (const ch of ['0', '.', '1']) {
      r.write(ch);
      await tick(200);
      console.log(JSON.stringify(ch), r.lastFrame().split('\n').filter((l) => l.includes('qty') || l.includes('price')).join(' / '));
    }
    r.unmount();
  });
});
