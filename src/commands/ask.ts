import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { daemonStoredBacktest } from '../client/daemon-backtests.js';
import type { DaemonClient } from '../client/daemon-client.js';
import { DaemonMarket } from '../client/daemon-market.js';
import { Assistant, type AssistantAnswer, type AssistantEvent } from '../engine/ai/assistant.js';
import { AiClient } from '../engine/ai/client.js';
import { answerJson } from '../engine/ai/answer-json.js';
import { aiConfigFrom, type AiConfig } from '../engine/ai/config.js';
import { costOf, formatCost } from '../engine/ai/pricing.js';
import { describeOrder, ProposalBook, type Proposal } from '../engine/ai/proposals.js';
import { saveSpecFile } from '../engine/ai/strategy-spec.js';
import { binanceRestMarket, type MarketSource } from '../engine/ai/market-source.js';
import { createToolBox, type StrategyRecord } from '../engine/ai/tools.js';
import type { EngineView, StoredBacktestRequest } from '../engine/ai/view.js';
import { queryCandles } from '../engine/candles/query.js';
import { readRecordingHeader } from '../engine/market/replay/recording.js';
import { UsageError } from '../engine/errors.js';
import type { Instruments } from '../engine/market/instruments.js';
import type { Store } from '../engine/store/types.js';
import { openStore } from '../engine/store/open.js';
import { formatDuration } from './backtest.js';
import { useColor } from './chart.js';
import { action, out, settingsFor } from './context.js';
import { binanceEndpoints, binanceRest, offlineMarketInfo } from './market.js';
import { withTrading, type TradingApi } from './trading-api.js';
import { wallNow } from './trading-context.js';

/**
 * `qtrade ask "..."`: one question to the assistant, its answer streamed to stdout. The model
 * reads the engine through tools (the paper account as `qtrade order` uses it — through the
 * daemon when one runs —, the store's candles, market data from Binance's REST API or, attached
 * to a daemon, from the daemon's, whose backtest jobs then run its backtests) and can only propose orders. This module also holds what
 * `qtrade chat` shares with it.
 */

export interface AssistantFlags {
  model?: string;
  tools?: boolean;
  thinking?: boolean;
  showReasoning?: boolean;
}

/** The ai.* settings of this invocation with the command's overrides. */
export function aiConfigFor(cmd: Command, flags: AssistantFlags): AiConfig {
  const settings = settingsFor(cmd);
  return aiConfigFrom((k) => settings.string(k), { ...(flags.model ? { model: flags.model } : {}), ...(flags.thinking ? { thinking: true } : {}) });
}

/**
 * The engine as the CLI sees it: the account through `api`, market data from `market` (Binance's
 * REST, or the daemon's when attached to one). `candleStore` is read for candles before `market`
 * (embedded only: a daemon's candles are its own store's, which the daemon serves).
 */
function cliView(api: TradingApi, store: Store, instruments: Instruments, market: MarketSource, candleStore: Store | undefined, daemon?: DaemonClient): EngineView {
  return {
    now: wallNow,
    instrument: (s) => instruments.get(s),
    ticker: (s) => market.ticker(instruments.get(s)),
    async candles(s, interval, limit) {
      const inst = instruments.get(s);
      if (candleStore) {
        const r = await queryCandles(candleStore, { symbol: inst.symbol, interval, limit });
        if (r.candles.length > 0) return { candles: r.candles, source: r.aggregatedFrom ? 'store (aggregated from 1m)' : 'store' };
      }
      return { candles: await market.closedCandles(inst, interval, limit), source: candleStore ? `${market.name} (not in the store)` : market.name };
    },
    book: (s, depth) => market.book(instruments.get(s), depth),
    balances: () => api.balances(),
    positions: () => api.positions(),
    openOrders: (s) => api.openOrders({ ...(s ? { symbol: s } : {}), limit: 500 }),
    risk: () => api.risk(),
    backtestCandles: (s, count) => store.candles({ symbol: instruments.get(s).symbol, interval: '1m', limit: count }),
    // Attached: backtests on stored candles run in the daemon, on its store (this host's may have none).
    ...(daemon ? { storedBacktest: (req: StoredBacktestRequest) => daemonStoredBacktest(daemon, req) } : {}),
    // The model names the file: only a qtrade recording is accepted, and nothing of any other
    // file's content goes back to it in an error.
    async recording(file) {
      const abs = path.resolve(file);
      const refuse = (): UsageError => new UsageError(`${file} is not a qtrade recording`, { hint: 'give a .jsonl.gz file written by `qtrade record`' });
      if (!/\.jsonl(\.gz)?$/i.test(abs) || !fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw refuse();
      const header = await readRecordingHeader(abs).catch(() => undefined);
      if (!header) throw refuse();
      return abs;
    },
  };
}

/** Embedded: instruments from the store's exchangeInfo cache (or the bundled one), market data from Binance. */
async function embeddedView(cmd: Command, api: TradingApi, store: Store): Promise<EngineView> {
  const { instruments } = await offlineMarketInfo(store);
  const endpoints = binanceEndpoints(settingsFor(cmd));
  const rest = binanceRest(endpoints, { instruments, maxRetries: 1, backoffMs: 200 });
  return cliView(api, store, instruments, binanceRestMarket(rest, endpoints.restUrl), store);
}

/** Attached to a daemon: its instruments, market data and backtests, so this host needs no route to Binance nor candles of its own. */
async function daemonView(api: TradingApi, store: Store, daemon: DaemonClient): Promise<EngineView> {
  const market = new DaemonMarket(daemon);
  return cliView(api, store, await market.instruments(), market, undefined, daemon);
}

/**
 * Runs `fn` with an assistant for this invocation: no key → the usage error, before anything is
 * opened; with tools, the account (embedded or the daemon's), the store and proposals stay open
 * until `fn` returns.
 */
export async function withAssistant<T>(cmd: Command, flags: AssistantFlags, source: string, fn: (asst: Assistant, config: AiConfig) => Promise<T>): Promise<T> {
  const config = aiConfigFor(cmd, flags);
  const model = new AiClient(config);
  if (flags.tools === false) return fn(new Assistant({ model }), config);
  return withTrading(cmd, { write: false, market: 'offline' }, async (api, daemon) => {
    const store = await openStore(settingsFor(cmd).storeUrl());
    try {
      const view = daemon ? await daemonView(api, store, daemon) : await embeddedView(cmd, api, store);
      const proposals = await ProposalBook.open(store);
      const tools = createToolBox({ view, proposals, source, model: config.model, decisionClock: wallNow });
      return await fn(new Assistant({ model, tools }), config);
    } finally {
      await store.close();
    }
  });
}

/** Ctrl-C cancels the answer in flight (exit 130) instead of killing the process mid-write. */
export async function cancellable<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onInt = (): void => ctl.abort();
  process.once('SIGINT', onInt);
  try {
    return await fn(ctl.signal);
  } finally {
    process.off('SIGINT', onInt);
  }
}

// ------------------------------------------------------------------ output

/** Streams an answer: text to stdout, reasoning to stderr (dimmed on a terminal), tool use to stderr. */
export function streamPrinter(flags: AssistantFlags): { onEvent: (e: AssistantEvent) => void; finish: () => void } {
  const showReasoning = flags.showReasoning === true || process.stderr.isTTY === true;
  const dim = useColor(process.stderr);
  let inReasoning = false;
  let textEnded = true;
  const endReasoning = (): void => {
    if (!inReasoning) return;
    process.stderr.write(dim ? '\x1b[22m\n' : '\n');
    inReasoning = false;
  };
  return {
    onEvent(e) {
      if (e.type === 'reasoning') {
        if (!showReasoning) return;
        if (!inReasoning) process.stderr.write(dim ? '\x1b[2m' : 'reasoning: ');
        inReasoning = true;
        process.stderr.write(e.delta);
      } else if (e.type === 'text') {
        endReasoning();
        process.stdout.write(e.delta);
        textEnded = e.delta.endsWith('\n');
      } else if (e.type === 'tool_result') {
        endReasoning();
        if (!textEnded) process.stdout.write('\n');
        textEnded = true;
        out.err(`  [${e.ok ? 'tool' : 'tool refused'}] ${e.summary}`);
      }
    },
    finish() {
      endReasoning();
      if (!textEnded) process.stdout.write('\n');
      textEnded = true;
    },
  };
}

const group = (n: number): string => n.toLocaleString('en-US');
const pct = (x: unknown): string => (typeof x === 'number' && Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(x * 100).toFixed(2)} %` : 'n/a');
const num = (x: unknown): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/** A backtested spec in the terms of `qtrade backtest`'s report. */
export function printStrategy(s: StrategyRecord): void {
  const b = s.backtest;
  const m = b.metrics as Record<string, number | null | boolean>;
  out.line();
  out.line(`strategy  ${s.spec.name} on ${b.symbol} ${b.interval} (declarative spec, ${b.model})`);
  out.line(`data      ${b.data}, ${b.candles} candles in`);
  if (b.error) out.line(`PAUSED    the strategy threw in ${b.error.callback}: ${b.error.message}`);
  const rows: Array<[string, string]> = [
    ['total return', `${pct(m.totalReturn)}  (${num(m.startEquity)} → ${num(m.endEquity)})`],
    ['Sharpe', num(m.sharpe)],
    ['max drawdown', `${pct(typeof m.maxDrawdown === 'number' && m.maxDrawdown > 0 ? -m.maxDrawdown : 0)}  lasting ${formatDuration(Number(m.maxDrawdownDurationMs ?? 0))}`],
    ['win rate', pct(m.winRate)],
    ['profit factor', num(m.profitFactor)],
    ['trades', `${m.trades} round trip${m.trades === 1 ? '' : 's'}${m.openTrade ? ' (+1 still open)' : ''}, ${b.fills} fills`],
    ['fees paid', num(m.feesPaid)],
  ];
  for (const [k, v] of rows) out.line(`  ${k.padEnd(14)}${v}`);
}

export function printProposal(p: Proposal): void {
  out.line(`proposal ${p.id} (${p.status}): ${describeOrder(p.order)} — not placed; \`qtrade proposals approve ${p.id}\` places it, \`qtrade proposals reject ${p.id}\` drops it`);
}

/** "tokens: …, cost $…" for stderr after an answer. */
export function usageLine(a: AssistantAnswer, config: AiConfig, at: number): string {
  const u = a.usage;
  if (!u) return `${config.model}: the API reported no token usage`;
  const cached = u.cacheHitTokens !== undefined ? ` (${group(u.cacheHitTokens)} cached)` : '';
  const reasoning = u.reasoningTokens > 0 ? ` (${group(u.reasoningTokens)} reasoning)` : '';
  const cost = costOf(u, config.model, config.prices, at);
  const price = cost
    ? `${formatCost(cost)} at ${cost.tier === 'flat' ? '' : `${cost.tier} `}prices of ${cost.asOf}${cost.assumedCacheMiss ? ', prompt priced as cache misses' : ''}`
    : `cost unknown: no price for ${config.model} (set ai.prices)`;
  return `${config.model}, ${a.calls} call${a.calls === 1 ? '' : 's'}: ${group(u.promptTokens)} prompt tokens${cached} + ${group(u.completionTokens)} completion${reasoning}; ${price}`;
}


/** Saves the last backtested spec of an answer (`--save-strategy`, `/save`). */
export function saveLastStrategy(strategies: readonly StrategyRecord[], file: string): string {
  const last = strategies[strategies.length - 1];
  if (!last) throw new UsageError('the assistant backtested no strategy spec, so there is nothing to save', { hint: 'ask it to write and backtest a strategy first' });
  const target = path.extname(file) === '' ? `${file}.json` : file;
  if (path.extname(target).toLowerCase() !== '.json') throw new UsageError(`${file}: a strategy spec is saved as .json`, { hint: `e.g. ${last.spec.name}.json` });
  saveSpecFile(target, last.spec);
  return target;
}

interface AskOptions extends AssistantFlags {
  json?: boolean;
  saveStrategy?: string;
}

export function register(program: Command): void {
  program
    .command('ask')
    .description('ask the DeepSeek assistant about the market, your paper account, risk or a strategy (it can only propose orders)')
    .argument('<question...>', 'the question (quote it, or give it as several words)')
    .option('--model <name>', 'model (default: the ai.model setting, deepseek-flash)')
    .option('--json', 'print one JSON object {answer, reasoning, usage, cost, toolCalls, proposals, strategies} at the end')
    .option('--no-tools', 'answer without reading the engine (no account, market or backtest access)')
    .option('--thinking', "use the model's thinking mode for this question (default: the ai.thinking setting)")
    .option('--show-reasoning', 'print the reasoning of the thinking mode on stderr even when it is not a terminal')
    .option('--save-strategy <file>', 'save the last strategy spec the assistant backtested as FILE.json (`qtrade backtest --strategy FILE.json` runs it)')
    .addHelpText(
      'after',
      `
Needs a DeepSeek API key: DEEPSEEK_API_KEY, or \`qtrade config set ai.apiKey KEY\` (config.json, mode 600).
Orders the assistant suggests are only proposals: \`qtrade proposals list|approve ID|reject ID\`.
The answer goes to stdout; tool use, reasoning and the token usage with its cost go to stderr.
Exit codes: 0 answered, 2 no key or bad usage, 4 the model's API failed, 130 canceled.`,
    )
    .action(
      action(async (words: string[], opts: AskOptions, cmd: Command) => {
        const question = words.join(' ').trim();
        if (question === '') throw new UsageError('ask what?', { hint: 'qtrade ask "how volatile is BTCUSDT today?"' });
        if (opts.saveStrategy !== undefined && fs.existsSync(opts.saveStrategy)) throw new UsageError(`${opts.saveStrategy} exists already`, { hint: 'choose another file name' });
        await withAssistant(cmd, opts, 'ask', (asst, config) =>
          cancellable(async (signal) => {
            const printer = opts.json ? undefined : streamPrinter(opts);
            let answer: AssistantAnswer;
            try {
              answer = await asst.ask(question, { signal, ...(printer ? { onEvent: printer.onEvent } : {}) });
            } finally {
              printer?.finish();
            }
            const at = wallNow();
            if (opts.json) out.json(answerJson(answer, config, at));
            else {
              if (answer.finishReason === 'length') out.err('warning: the answer was cut off at the model\'s output limit');
              for (const s of answer.strategies) printStrategy(s);
              if (answer.proposals.length > 0) out.line();
              for (const p of answer.proposals) printProposal(p);
              out.err(usageLine(answer, config, at));
            }
            if (opts.saveStrategy !== undefined) out.err(`saved the strategy spec to ${saveLastStrategy(answer.strategies, opts.saveStrategy)}`);
          }),
        );
      }),
    );
}

