import { useCallback, useRef, type ReactNode } from 'react';
import { Box, useApp, useInput, type Key } from 'ink';
import { CHART_INTERVALS, parseCommand, type ChartInterval, type TuiCommand } from './commands.js';
import { describeError } from './format.js';
import { useSnapshot, useTerminalSize, useTui } from './hooks.js';
import { useKeyState } from './keys.js';
import { ALERTS_LAYOUT, ASSISTANT_LAYOUT, LAYOUTS, planLayout, STRATEGIES_LAYOUT, type PanelId } from './layout.js';
import { AccountLine } from './panels/AccountLine.js';
import { ACCOUNT_TABS, AccountTabs, type AccountTab } from './panels/AccountTabs.js';
import { Balances } from './panels/Balances.js';
import { Chart, type ChartMode } from './panels/Chart.js';
import { CommandLine } from './panels/CommandLine.js';
import { Fills } from './panels/Fills.js';
import { Header } from './panels/Header.js';
import { Help } from './panels/Help.js';
import { LogLine, LogView } from './panels/Log.js';
import { OpenOrders } from './panels/OpenOrders.js';
import { OrderBook } from './panels/OrderBook.js';
import { EMPTY_DRAFT, OrderEntry, type OrderDraft } from './panels/OrderEntry.js';
import { Positions } from './panels/Positions.js';
import { placeTicket } from './place.js';
import { Trades } from './panels/Trades.js';
import { WatchStrip } from './panels/WatchStrip.js';
import { Watchlist } from './panels/Watchlist.js';
import { Strategies } from './panels/Strategies.js';
import { Backtest } from './panels/Backtest.js';
import { SystemPanel } from './panels/System.js';
import { runStrategyCommand } from './strategy-commands.js';
import { runAlertCommand } from './alert-commands.js';
import { AlertsPanel } from './panels/Alerts.js';
import { AssistantPanel, useChatSession } from './panels/Assistant.js';
import { Toasts } from './panels/Toasts.js';
import { humanPrice } from '../commands/trading-output.js';

const sameList = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export interface AppProps {
  /** Called once when the trader quits, before Ink unmounts. */
  onQuit?: () => void;
  initialLayout?: number;
  /** Rings the terminal bell (an alert fired and alerts.bell is on); run.tsx writes BEL to the terminal. */
  onBell?: () => void;
}

const step = <T,>(list: readonly T[], v: T, by: number): T => list[(Math.max(0, list.indexOf(v)) + by + list.length) % list.length]!;

/** The dashboard: header, panels in the chosen layout, the bottom line; all keys come in here. */
export function App({ onQuit, initialLayout = 1, onBell }: AppProps) {
  const { source, log, keys } = useTui();
  const { exit } = useApp();
  const size = useTerminalSize();
  const symbols = useSnapshot([], (s) => s.symbols(), { isEqual: sameList });
  const [symbolState, setSymbol, symbolRef] = useKeyState<string | undefined>(undefined);
  const symbol = symbolState !== undefined && symbols.includes(symbolState) ? symbolState : (symbols[0] ?? '');
  const [layout, setLayout, layoutRef] = useKeyState(initialLayout);
  const [focusState, setFocus, focusRef] = useKeyState<PanelId | undefined>(undefined);
  const [interval, setChartInterval] = useKeyState<ChartInterval>('1m');
  const [mode, setMode] = useKeyState<ChartMode>('candles');
  const [tab, setTab] = useKeyState<AccountTab>('orders');
  const [draft, setDraft, draftRef] = useKeyState<OrderDraft>(EMPTY_DRAFT);
  const [help, setHelp, helpRef] = useKeyState(false);
  const [cmdOpen, setCmdOpen, cmdRef] = useKeyState(false);
  const quitArmed = useRef(false);
  const history = useRef<string[]>([]);
  const pendingCmd = useRef('');
  // Each opening of the command line is a new line. A `/` typed right behind the Enter that closed
  // the last one arrives before React has re-rendered: the closing and the opening are then one
  // render, so the opening count is state (it forces the new line), and keys go to the line drawn
  // for this opening only, never to the last one's handler still registered.
  const [cmdSeq, setCmdSeq, cmdSeqRef] = useKeyState(0);
  const drawnSeq = useRef(0);
  if (cmdOpen) drawnSeq.current = cmdSeq;
  const chat = useChatSession();

  const planFor = (layoutN: number, focusId: PanelId | undefined) =>
    planLayout({ columns: size.columns, rows: size.rows - 1, layout: layoutN, symbols: symbols.length, focus: focusId });
  const focusIn = (p: ReturnType<typeof planFor>, f: PanelId | undefined): PanelId | undefined => (f !== undefined && p.focusable.includes(f) ? f : p.focusable[0]);
  const plan = planFor(layout, focusState);
  const focus = focusIn(plan, focusState);
  const venue = source.info.venue;
  const currentSymbol = (): string => {
    const s = symbolRef.current;
    return s !== undefined && symbols.includes(s) ? s : (symbols[0] ?? '');
  };

  const quit = (): void => {
    if (venue !== 'paper' && source.openOrders().length > 0 && !quitArmed.current) {
      quitArmed.current = true;
      log.add('warn', `orders are open on ${venue}: they stay on the exchange. Press q again to quit.`);
      return;
    }
    onQuit?.();
    exit();
  };

  const openEntry = (side: 'BUY' | 'SELL', preset?: Partial<OrderDraft>): void => {
    const sym = currentSymbol();
    const inst = source.instrument(sym);
    const last = source.market(sym)?.lastTrade?.price;
    setDraft((d) => ({ ...d, side, price: d.price || (last !== undefined && inst ? humanPrice(last, inst) : ''), ...preset }));
    if (layoutRef.current !== 1 && layoutRef.current !== 3) setLayout(1);
    setFocus('entry');
  };

  const moveSymbol = (delta: number): void => {
    if (symbols.length > 0) setSymbol(step(symbols, currentSymbol(), delta));
  };

  const run = (c: TuiCommand): void => {
    const fail = (err: unknown): void => log.add('error', `✗ ${describeError(err).text}`);
    switch (c.kind) {
      case 'order': {
        const t = c.ticket;
        if (venue !== 'paper') {
          // Live venues: the order goes through the form's review step, never straight out.
          if (symbols.includes(t.symbol)) setSymbol(t.symbol);
          openEntry(t.side, { type: t.type === 'LIMIT_MAKER' ? 'LIMIT_MAKER' : t.limit ? 'LIMIT' : 'MARKET', qty: t.qty ?? '', price: t.limit ?? '', tif: (t.tif as OrderDraft['tif']) ?? 'GTC' });
          log.add('info', `review the order in Order entry and press Enter to send it to ${venue}`);
          return;
        }
        // The order's own events put it on the log (exchange time, fills, a refusal), as for the form's
        // orders; a line here would say the same thing twice. Only what no event tells is logged here.
        void placeTicket(source, t).then((p) => {
          if (!p.ok && !p.onLog) fail(p.error);
        });
        return;
      }
      case 'cancel': {
        const o = source.openOrders().find((x) => x.orderId === c.orderId);
        // The CANCELED event logs it, with the order's side, size and price.
        source.cancel(o?.symbol ?? currentSymbol(), c.orderId).catch(fail);
        return;
      }
      case 'cancelAll':
        source.cancelAll(c.symbol).then((list) => log.add('good', `✓ canceled ${list.length} order${list.length === 1 ? '' : 's'}${c.symbol ? ` of ${c.symbol}` : ''}`), fail);
        return;
      case 'interval':
        setChartInterval(c.interval);
        return;
      case 'symbol':
        if (symbols.includes(c.symbol)) setSymbol(c.symbol);
        else log.add('error', `✗ ${c.symbol} is not in this session's feed (${symbols.join(', ')}); start qtrade tui with --symbols to add it`);
        return;
      case 'layout':
        setLayout(c.layout);
        return;
      case 'help':
        setHelp(true);
        return;
      case 'strategyStart':
      case 'strategyStop':
      case 'strategyResume':
      case 'strategies':
      case 'backtest':
        runStrategyCommand(c, { strategies: source.strategies, log });
        setLayout(STRATEGIES_LAYOUT);
        if (c.kind === 'backtest') setFocus('backtest');
        return;
      case 'ask':
        // The AI panel where it is (the full dashboard), else its own layout.
        if (!planFor(layoutRef.current, 'ai').columns.some((col) => col.panels.some((p) => p.id === 'ai'))) setLayout(ASSISTANT_LAYOUT);
        setFocus('ai');
        if (chat) chat.send(c.prompt);
        else log.add('error', '✗ the assistant is not available in this session');
        return;
      case 'alertAdd':
      case 'alertRemove':
      case 'alerts':
        runAlertCommand(c, { alerts: source.alerts, log });
        if (c.kind === 'alerts') setLayout(ALERTS_LAYOUT);
        return;
      case 'quit':
        quit();
        return;
    }
  };

  const submit = (text: string): void => {
    setCmdOpen(false);
    if (!text.trim()) return;
    try {
      run(parseCommand(text, { symbol: currentSymbol() }));
    } catch (err) {
      log.add('error', `✗ ${describeError(err).text}`);
    }
  };

  // One input handler for the whole app (see keys.ts); it reads the latest state through refs.
  const onKey = (input: string, key: Key): void => {
    if (key.ctrl && input === 'c') return quit();
    if (helpRef.current) return setHelp(false);
    if (cmdRef.current) {
      // Keys typed right behind the `/` arrive before the line is drawn: they are its first text.
      if (drawnSeq.current === cmdSeqRef.current && keys.dispatch('cmd', input, key)) return;
      if (/^[\x20-\x7e]+$/.test(input)) pendingCmd.current += input;
      // An Enter behind them (a paste, tmux send-keys) runs what was typed; an Esc drops it.
      else if (key.return) {
        const t = pendingCmd.current;
        if (t.trim() && history.current[history.current.length - 1] !== t) history.current.push(t);
        submit(t);
      } else if (key.escape) setCmdOpen(false);
      return;
    }
    const p = planFor(layoutRef.current, focusRef.current);
    const f = focusIn(p, focusRef.current);
    if (key.tab) {
      const list = p.focusable;
      if (list.length > 0) setFocus(step(list, f, key.shift ? -1 : 1));
      return;
    }
    // A panel typing text (a strategy's params) takes every key but Tab.
    if (f !== 'entry' && keys.captures(f)) return void keys.dispatch(f, input, key);
    // The order form takes letters and digits while it has the focus; Tab leaves it.
    if (f === 'entry') {
      // In the compact layout the form is drawn only once focused; digits typed before go to the quantity.
      if (!keys.dispatch('entry', input, key) && /^[0-9.]+$/.test(input)) setDraft((d) => ({ ...d, qty: d.qty + input }));
      return;
    }
    if (input === 'q') return quit();
    if (input === '?') return setHelp(true);
    if (input === '/') {
      pendingCmd.current = '';
      setCmdSeq((n) => n + 1);
      return setCmdOpen(true);
    }
    if (input.length === 1 && LAYOUTS.includes(Number(input))) return setLayout(Number(input));
    if (input === 'b') return openEntry('BUY');
    if (input === 's') return openEntry('SELL');
    if (input === 'i') return setChartInterval((i) => step(CHART_INTERVALS, i, 1));
    keys.dispatch(f, input, key);
  };
  // Ink hands a chunk without escape sequences over as one input ("0.01", "\x7f\x7f60000\r"
  // from a paste or keys sent together); each character is a key of its own.
  const onInput = (input: string, key: Key): void => {
    if (input.length <= 1 || key.ctrl || key.meta || input.includes('\u001B')) return onKey(input, key);
    const plain: Key = { ...key, return: false, backspace: false, delete: false, tab: false, shift: false };
    for (const ch of input) {
      if (ch === '\r' || ch === '\n') onKey('', { ...plain, return: true });
      else if (ch === '\u007F') onKey('', { ...plain, delete: true });
      else if (ch === '\b') onKey('', { ...plain, backspace: true });
      else if (ch === '\t') onKey('', { ...plain, tab: true });
      else if (ch >= ' ') onKey(ch, { ...plain, shift: ch >= 'A' && ch <= 'Z' });
    }
  };
  const onKeyRef = useRef(onInput);
  onKeyRef.current = onInput;
  const stableOnKey = useCallback((input: string, key: Key) => onKeyRef.current(input, key), []);
  useInput(stableOnKey);

  const panel = (id: PanelId, width: number, height: number): ReactNode => {
    const f = focus === id && !help && !cmdOpen;
    switch (id) {
      case 'watch':
        return <Watchlist key={id} width={width} height={height} focused={f} symbol={symbol} onMove={moveSymbol} />;
      case 'chart':
        return (
          <Chart
            key={id}
            width={width}
            height={height}
            focused={f}
            symbol={symbol}
            interval={interval}
            mode={mode}
            onIntervalStep={(d) => setChartInterval((i) => step(CHART_INTERVALS, i, d))}
            onToggleMode={() => setMode((m) => (m === 'candles' ? 'line' : 'candles'))}
          />
        );
      case 'book':
        return <OrderBook key={id} width={width} height={height} focused={f} symbol={symbol} />;
      case 'trades':
        return <Trades key={id} width={width} height={height} focused={f} symbol={symbol} />;
      case 'entry':
        return <OrderEntry key={id} width={width} height={height} focused={f} symbol={symbol} draft={draft} draftRef={draftRef} onDraft={setDraft} />;
      case 'account':
        return <AccountTabs key={id} width={width} height={height} focused={f} tab={tab} onTabStep={(d) => setTab((t) => step(ACCOUNT_TABS, t, d))} />;
      case 'orders':
        return <OpenOrders key={id} width={width} height={height} focused={f} />;
      case 'fills':
        return <Fills key={id} width={width} height={height} focused={f} />;
      case 'positions':
        return <Positions key={id} width={width} height={height} focused={f} />;
      case 'balances':
        return <Balances key={id} width={width} height={height} focused={f} />;
      case 'log':
        return <LogView key={id} width={width} height={height} focused={f} />;
      case 'strategies':
        return <Strategies key={id} width={width} height={height} focused={f} symbol={symbol} />;
      case 'backtest':
        return <Backtest key={id} width={width} height={height} focused={f} symbol={symbol} />;
      case 'system':
        return <SystemPanel key={id} width={width} height={height} focused={f} />;
      case 'ai':
        return <AssistantPanel key={id} width={width} height={height} focused={f} chat={chat} />;
      case 'alerts':
        return <AlertsPanel key={id} width={width} height={height} focused={f} />;
    }
  };

  const C = Math.max(40, size.columns);
  return (
    <Box flexDirection="column" width={C} height={Math.max(12, size.rows - 1)}>
      <Header width={C} />
      {plan.strip && <WatchStrip width={C} focused={focus === 'watch' && !help && !cmdOpen} symbol={symbol} onMove={moveSymbol} />}
      {help ? (
        <Help width={C} height={plan.bodyHeight} />
      ) : (
        <Box height={plan.bodyHeight} flexShrink={0}>
          {plan.columns.map((col, i) => (
            <Box key={i} flexDirection="column" width={col.width} flexShrink={0}>
              {col.panels.map((p) => panel(p.id, col.width, p.height))}
            </Box>
          ))}
        </Box>
      )}
      {plan.accountLine && <AccountLine width={C} hint="Tab: next panel" />}
      {cmdOpen ? <CommandLine key={cmdSeq} width={C} history={history.current} initial={pendingCmd.current} onSubmit={submit} onCancel={() => setCmdOpen(false)} /> : <LogLine width={C} />}
      <Toasts width={C} top={plan.strip ? 2 : 1} onBell={onBell} />
    </Box>
  );
}
