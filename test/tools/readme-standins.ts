/**
 * The local stand-ins the README's daemon and assistant examples ran against, on a machine that
 * cannot reach Binance or DeepSeek:
 *
 * - a fake Binance (test/helpers/fake-binance.ts: real WebSocket + REST on 127.0.0.1) that streams
 *   the real capture shipped in fixtures/ (BTCUSDT and ETHUSDT `trade`, `bookTicker` and
 *   `depth@100ms` frames, 2024-08-08 23:54–00:05 UTC) at its recorded pace, once, starting when the
 *   first client subscribes; its REST serves the bundled exchangeInfo, the last streamed trade
 *   (as an aggTrade) and the depth book as it stands: the capture's snapshot with every streamed
 *   diff applied, as Binance's REST would answer at that moment;
 * - an OpenAI-compatible server (test/helpers/fake-openai.ts) whose replies are scripted below from
 *   the tool results qtrade sends it: it is not a model, and its wording is not DeepSeek's;
 * - a webhook receiver (test/helpers/webhook-receiver.ts) that checks qtrade's signature with the
 *   secret README's example sets, and a Telegram Bot API stand-in (test/helpers/fake-telegram.ts);
 *   both print what they receive.
 *
 * Run: npx tsx test/tools/readme-standins.ts [--speed N]
 * It prints the environment to point qtrade at both, then runs until Ctrl-C.
 */
import { readRecording } from '../../src/engine/market/replay/recording.js';
import { startFakeBinance } from '../helpers/fake-binance.js';
import { createFakeRest, type RawDepth } from '../helpers/fake-binance-rest.js';
import { callTools, say, startFakeOpenAI, type RecordedRequest, type Reply } from '../helpers/fake-openai.js';
import { startFakeTelegram } from '../helpers/fake-telegram.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

/** The alerts.webhookSecret of README's example. */
const WEBHOOK_SECRET = 'readme-example-secret';
const RECORDING = new URL('../../fixtures/recordings/binance-spot-2024-08-08.jsonl.gz', import.meta.url).pathname;

function speedArg(): number {
  const i = process.argv.indexOf('--speed');
  if (i === -1) return 1;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) throw new Error(`--speed must be a positive number, got ${process.argv[i + 1]}`);
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A depth book kept current from diffs, read as a REST snapshot (sorted on every read). */
class LiveBook implements RawDepth {
  lastUpdateId: number;
  private readonly sides = { bids: new Map<string, string>(), asks: new Map<string, string>() };

  constructor(snapshot: RawDepth) {
    this.lastUpdateId = snapshot.lastUpdateId;
    for (const [p, q] of snapshot.bids) this.sides.bids.set(p, q);
    for (const [p, q] of snapshot.asks) this.sides.asks.set(p, q);
  }

  apply(d: { u: number; b: [string, string][]; a: [string, string][] }): void {
    if (d.u <= this.lastUpdateId) return;
    for (const [side, levels] of [['bids', d.b], ['asks', d.a]] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) this.sides[side].delete(p);
        else this.sides[side].set(p, q);
      }
    }
    this.lastUpdateId = d.u;
  }

  get bids(): [string, string][] {
    return [...this.sides.bids].sort((x, y) => Number(y[0]) - Number(x[0]));
  }

  get asks(): [string, string][] {
    return [...this.sides.asks].sort((x, y) => Number(x[0]) - Number(y[0]));
  }
}

interface TradeFrame {
  s: string;
  t: number;
  p: string;
  q: string;
  T: number;
  m: boolean;
}

interface Message {
  role: string;
  content?: string | null;
  tool_calls?: Array<{ function: { name: string } }>;
}

/** The tool results sent back after the last user message, by tool name. */
function toolResults(messages: Message[]): Map<string, unknown> {
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  const names: string[] = [];
  const out = new Map<string, unknown>();
  for (const m of messages.slice(lastUser + 1)) {
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) names.push(c.function.name);
    if (m.role === 'tool') {
      const name = names.shift();
      if (name !== undefined) out.set(name, JSON.parse(m.content ?? 'null'));
    }
  }
  return out;
}

/** Scripted answers: read the ticker (and the positions, or propose a limit buy 1 % under the last price). */
function respond(req: RecordedRequest): Reply {
  const messages = (req.body.messages ?? []) as Message[];
  const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const symbol = /eth/i.test(question) ? 'ETHUSDT' : 'BTCUSDT';
  const results = toolResults(messages);
  const ticker = results.get('get_ticker') as { lastPrice: string | null; lastTime: string | null; bid: string; ask: string } | undefined;
  if (!ticker) return callTools({ name: 'get_ticker', arguments: JSON.stringify({ symbol }) });
  if (/propose|buy/i.test(question)) {
    const proposal = results.get('propose_order') as { id: string; order: string } | { error: string } | undefined;
    if (!proposal) {
      const limit = ((Number(ticker.lastPrice ?? ticker.bid) * 99) / 100).toFixed(2);
      const rationale = `1 % under the last trade ${ticker.lastPrice} (${ticker.lastTime})`;
      return callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol, side: 'BUY', qty: symbol === 'ETHUSDT' ? '0.01' : '0.001', limit, rationale }) });
    }
    if ('error' in proposal) return say(`The proposal was refused: ${proposal.error}`);
    return say(`Proposed ${proposal.order} (proposal ${proposal.id}, pending). Nothing is placed until you approve it.`);
  }
  const positions = results.get('get_positions') as Array<{ symbol: string; qty: string; avgEntry: string; unrealizedPnl: string | null }> | undefined;
  if (!positions) return callTools({ name: 'get_positions', arguments: '{}' });
  const held = positions.filter((p) => p.symbol === symbol && Number(p.qty) !== 0);
  const position = held.length === 0 ? `You hold no ${symbol} position.` : held.map((p) => `You hold ${p.qty} at ${p.avgEntry} on average, unrealized ${p.unrealizedPnl ?? 'n/a'}.`).join(' ');
  return say(`${symbol} last traded at ${ticker.lastPrice} (${ticker.lastTime}); bid ${ticker.bid}, ask ${ticker.ask}. ${position}`);
}

async function main(): Promise<void> {
  const speed = speedArg();
  const rest = createFakeRest();
  const frames: Array<{ r: number; stream: string; data: unknown }> = [];
  for await (const line of readRecording(RECORDING)) {
    if (line.kind === 'frame') frames.push({ r: line.r, stream: line.frame.stream, data: line.frame.data });
    else if (line.kind === 'rest') {
      const symbol = new URL(line.rest, 'http://x').searchParams.get('symbol');
      if (symbol) rest.state.depth.set(symbol, new LiveBook(line.body as RawDepth));
    }
  }
  const binance = await startFakeBinance({ rest: rest.handler });
  const ai = await startFakeOpenAI();
  ai.respond = respond;
  const webhook = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
  const telegram = await startFakeTelegram();

  process.stdout.write(
    [
      `# fake Binance streaming ${RECORDING.split('/').pop()} (${frames.length} frames, speed ${speed}) once a client subscribes`,
      `export QTRADE_BINANCE_WS_URL=${binance.wsUrl} QTRADE_BINANCE_REST_URL=${binance.restUrl}`,
      `# OpenAI-compatible stand-in (scripted, not a model)`,
      `export QTRADE_AI_BASE_URL=${ai.url} DEEPSEEK_API_KEY=sk-local-stand-in`,
      `# webhook receiver checking signatures with secret ${WEBHOOK_SECRET}; Telegram Bot API stand-in`,
      `# qtrade config set alerts.webhookUrl ${webhook.url}; qtrade config set alerts.webhookSecret ${WEBHOOK_SECRET}`,
      `# qtrade config set telegram.apiUrl ${telegram.apiUrl}; qtrade config set telegram.botToken ${telegram.token}; qtrade config set telegram.chatId 42`,
      '',
    ].join('\n'),
  );

  const stop = async (): Promise<void> => {
    await Promise.all([binance.close(), ai.close(), webhook.close(), telegram.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  let seenHooks = 0;
  let seenTelegram = 0;
  setInterval(() => {
    for (const w of webhook.received.slice(seenHooks)) {
      const h = (k: string): string => String(w.headers[k]);
      process.stdout.write(`webhook: signature ${w.verified ? 'valid' : 'INVALID'}; x-qtrade-timestamp ${h('x-qtrade-timestamp')}, x-qtrade-delivery ${h('x-qtrade-delivery')}\n  ${w.body}\n`);
    }
    seenHooks = webhook.received.length;
    for (const m of telegram.sent.slice(seenTelegram)) process.stdout.write(`telegram sendMessage to ${m.chat_id}: ${JSON.stringify(m.text)}\n`);
    seenTelegram = telegram.sent.length;
  }, 200).unref();

  await binance.waitFor(() => binance.connections.some((c) => c.streams.size > 0), 'a subscriber', 24 * 3600_000);
  const t0 = performance.now();
  const r0 = frames[0]!.r;
  for (const f of frames) {
    const due = (f.r - r0) / speed - (performance.now() - t0);
    if (due > 5) await sleep(due);
    binance.send(f.stream, f.data);
    if (f.stream.endsWith('@trade')) {
      const t = f.data as TradeFrame;
      rest.state.trades.set(t.s, [{ a: t.t, p: t.p, q: t.q, f: t.t, l: t.t, T: t.T, m: t.m, M: true }]);
    } else if (f.stream.includes('@depth')) {
      const d = f.data as { s: string; u: number; b: [string, string][]; a: [string, string][] };
      const book = rest.state.depth.get(d.s);
      if (book instanceof LiveBook) book.apply(d);
    }
  }
  process.stdout.write('# end of the recording: the fake Binance stays up, silent\n');
}

await main();
