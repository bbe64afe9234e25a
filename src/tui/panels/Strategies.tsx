import { memo, useEffect, useReducer, useState } from 'react';
import { Box, Text } from 'ink';
import type { Instrument } from '../../engine/market/types.js';
import { AMOUNT_SCALE, type Amount } from '../../engine/orders/types.js';
import { roundedAmount } from '../../commands/trading-output.js';
import { describeError, fit, fmtAmount, fmtPnl, fmtPrice, fmtSignedQty, group } from '../format.js';
import { useSnapshot, useTui } from '../hooks.js';
import { useKeyState, usePanelCapture, usePanelKeys } from '../keys.js';
import type { StrategyView } from '../sources/strategies.js';
import { paramsText, startedText, stoppedText } from '../strategy-commands.js';
import { draftParams, newDraft, type FieldKey, type FormContext, type StrategyDraft } from '../strategy-form.js';
import { toneColor, type Tone } from '../theme.js';
import { Panel, inner } from './Panel.js';
import { DraftFields, editDraftKey } from './StrategyForm.js';

const sameView = (a: StrategyView, b: StrategyView): boolean =>
  a.id === b.id &&
  a.status === b.status &&
  a.fills === b.fills &&
  a.orders === b.orders &&
  a.openOrders === b.openOrders &&
  a.error?.message === b.error?.message &&
  a.position.qty === b.position.qty &&
  a.position.realizedPnl === b.position.realizedPnl &&
  a.position.unrealizedPnl === b.position.unrealizedPnl &&
  a.position.fees === b.position.fees &&
  a.position.mark === b.position.mark;
const sameList = (a: StrategyView[], b: StrategyView[]): boolean => a.length === b.length && a.every((x, i) => sameView(x, b[i]!));

/**
 * The live strategies, re-read on the next frame after a fill, an order change or a trade (the
 * unrealized PnL follows the last price), and at once when one starts, stops or pauses.
 */
export function useStrategies(): StrategyView[] {
  const { source } = useTui();
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => source.strategies.onChange(bump), [source]);
  return useSnapshot(['fill', 'order.update', 'trade'], (s) => s.strategies.list(), { isEqual: sameList, deps: [version] });
}

const STATUS_TONE: Record<StrategyView['status'], Tone> = { running: 'good', paused: 'warn', stopped: 'muted' };

const pnlTone = (a: Amount | undefined): Tone | undefined => (a === undefined || a === 0n ? undefined : a > 0n ? 'up' : 'down');

interface Columns {
  id: number;
  name: number;
  symbol: number;
  params: number;
  status: number;
  fills: number;
  position: number;
  realized: number;
  unrealized: number;
}

/** Column widths for an inner width: the id and position columns only when there is room. */
function columnsFor(w: number): Columns {
  const wide = w >= 110;
  const fixed = { id: wide ? 20 : 0, name: 12, symbol: 8, status: 7, fills: 5, position: wide ? 12 : 0, realized: 10, unrealized: 10 };
  const used = Object.values(fixed).reduce((a, b) => a + b, 0) + Object.values(fixed).filter((x) => x > 0).length + 1;
  return { ...fixed, params: Math.max(6, w - used) };
}

const Row = memo(function Row({ s, cols, selected, focused }: { s: StrategyView; cols: Columns; selected: boolean; focused: boolean }) {
  const { source, theme } = useTui();
  const inst = source.instrument(s.symbol);
  const p = s.position;
  const cell = (text: string, width: number, align: 'left' | 'right' = 'left') => (width > 0 ? fit(text, width, align) + ' ' : '');
  return (
    <Text wrap="truncate" inverse={selected && focused}>
      <Text>{selected ? '▸' : ' '}</Text>
      {cell(s.id, cols.id)}
      <Text bold>{cell(s.strategy, cols.name)}</Text>
      {cell(s.symbol, cols.symbol)}
      {cell(paramsText(s.params) || '–', cols.params)}
      <Text color={toneColor(theme, STATUS_TONE[s.status])}>{cell(s.status, cols.status)}</Text>
      {cell(String(s.fills), cols.fills, 'right')}
      {cols.position > 0 ? cell(inst ? fmtSignedQty(p.qty, inst, AMOUNT_SCALE) : fmtAmount(p.qty), cols.position, 'right') : ''}
      <Text color={toneColor(theme, pnlTone(p.realizedPnl))}>{cell(fmtPnl(p.realizedPnl), cols.realized, 'right')}</Text>
      <Text color={toneColor(theme, pnlTone(p.unrealizedPnl))}>{fit(p.unrealizedPnl === undefined ? 'n/a' : fmtPnl(p.unrealizedPnl), cols.unrealized, 'right')}</Text>
    </Text>
  );
});

function Header({ cols }: { cols: Columns }) {
  const { theme } = useTui();
  const cell = (text: string, width: number, align: 'left' | 'right' = 'left') => (width > 0 ? fit(text, width, align) + ' ' : '');
  return (
    <Text wrap="truncate" color={toneColor(theme, 'muted')}>
      {' '}
      {cell('id', cols.id)}
      {cell('strategy', cols.name)}
      {cell('symbol', cols.symbol)}
      {cell('params', cols.params)}
      {cell('status', cols.status)}
      {cell('fills', cols.fills, 'right')}
      {cell('position', cols.position, 'right')}
      {cell('realized', cols.realized, 'right')}
      {fit('unrealized', cols.unrealized, 'right')}
    </Text>
  );
}

/** The selected strategy in one line: id, position, orders, fees, and why it is paused. */
function detailText(s: StrategyView, inst: Instrument | undefined): string {
  const p = s.position;
  const qty = inst ? fmtSignedQty(p.qty, inst, AMOUNT_SCALE) : fmtAmount(p.qty);
  const avg = p.qty !== 0n ? ` avg ${group(roundedAmount(p.avgEntry, inst?.priceScale ?? 8))}` : '';
  const mark = p.mark !== undefined && inst ? ` · mark ${fmtPrice(p.mark, inst)}` : '';
  // Why it is paused comes first: it is what the trader has to act on.
  const why = s.error ? ` ${s.status} after it threw in ${s.error.callback}: ${s.error.message} ·` : '';
  return `${s.id}${why} ${s.interval} · ${qty} ${p.baseAsset}${avg}${mark} · ${s.orders} orders (${s.openOrders} open) · fees ${group(roundedAmount(p.fees, 2))} ${p.quoteAsset}`;
}

export interface StrategiesProps {
  width: number;
  height: number;
  focused: boolean;
  /** The selected symbol: a new strategy trades it unless changed. */
  symbol: string;
}

/**
 * The live strategies on the paper account: strategy, symbol, params, status, fills and the
 * strategy's own realized and unrealized PnL (exact, from its fills, marked at the last trade).
 * Keys (focused): ↑↓ select · n start a built-in (a form: ←→ choose, digits type params, Enter
 * starts, Esc cancels) · x stop the selected one (asks first) · r resume a paused one.
 */
export function Strategies({ width, height, focused, symbol }: StrategiesProps) {
  const { source, theme, log } = useTui();
  const list = useStrategies();
  const [selectedId, setSelectedId, selectedRef] = useKeyState<string | undefined>(undefined);
  const [draft, setDraft, draftRef] = useKeyState<StrategyDraft | undefined>(undefined);
  const [field, setField, fieldRef] = useKeyState<FieldKey>('strategy');
  const [confirm, setConfirm, confirmRef] = useKeyState<string | undefined>(undefined);
  const [busy, setBusy, busyRef] = useKeyState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const formCtx = (): FormContext => ({ templates: source.strategies.templates(), symbols: source.symbols(), data: [] });

  const idx = Math.max(0, list.findIndex((s) => s.id === selectedId));
  const selected = list[idx];

  const act = (what: string, p: () => Promise<StrategyView>, ok: (s: StrategyView) => string): void => {
    setBusy(true);
    setResult(undefined);
    p().then(
      (s) => {
        setBusy(false);
        setSelectedId(s.id);
        setResult({ ok: true, text: ok(s) });
        log.add('good', ok(s));
      },
      (err: unknown) => {
        setBusy(false);
        const text = `✗ ${what}: ${describeError(err).text}`;
        setResult({ ok: false, text });
        log.add('error', text);
      },
    );
  };

  const closeForm = (): void => setDraft(undefined);

  // While the form is open, digits and letters are its text, not layout or order keys.
  usePanelCapture('strategies', { get current() { return draftRef.current !== undefined; } });
  usePanelKeys('strategies', (input, key) => {
    if (busyRef.current) return;
    const d = draftRef.current;
    if (d) {
      if (key.escape) return closeForm();
      if (key.return) {
        closeForm();
        const spec = { strategy: d.strategy, symbol: d.symbol, interval: d.interval, params: draftParams(d) };
        act(`start ${d.strategy}`, () => source.strategies.start(spec), startedText);
        return;
      }
      editDraftKey(formCtx(), false, { draft: d, field: fieldRef.current }, input, key, { draft: setDraft, field: setField });
      return;
    }
    const current = source.strategies.list();
    const at = Math.max(0, current.findIndex((s) => s.id === selectedRef.current));
    const target = current[at];
    const pending = confirmRef.current;
    if (pending !== undefined) {
      setConfirm(undefined);
      if (input === 'y' || key.return) act(`stop ${pending}`, () => source.strategies.stop(pending), stoppedText);
      return;
    }
    if (key.upArrow && current.length > 0) return setSelectedId(current[(at - 1 + current.length) % current.length]!.id);
    if (key.downArrow && current.length > 0) return setSelectedId(current[(at + 1) % current.length]!.id);
    if (key.escape) return setResult(undefined);
    if (input === 'n') {
      setResult(undefined);
      setField('strategy');
      setDraft(newDraft(formCtx(), symbol));
      return;
    }
    if (!target) return;
    if (input === 'x') {
      if (target.status === 'stopped') return setResult({ ok: false, text: `${target.id} is stopped already` });
      setConfirm(target.id);
      return;
    }
    if (input === 'r') {
      if (target.status !== 'paused') return setResult({ ok: false, text: `${target.id} is ${target.status}; only a paused strategy resumes` });
      act(`resume ${target.id}`, () => source.strategies.resume(target.id), (s) => `✓ strategy ${s.id} ${s.status}`);
    }
  });

  const { w, h } = inner(width, height);
  const cols = columnsFor(w);
  const live = list.filter((s) => s.status !== 'stopped').length;
  const muted = toneColor(theme, 'muted');
  const inst = selected ? source.instrument(selected.symbol) : undefined;
  // Rows left for the list after the header, the form (2 lines), the detail and the message.
  const footer = (draft ? 2 : 0) + (confirm ? 1 : 0) + (result || busy ? 1 : 0) + (selected && !draft ? 1 : 0);
  const rows = Math.max(1, h - 1 - footer);
  const first = Math.max(0, Math.min(idx - rows + 1, list.length - rows));
  const hint = focused ? (draft ? '↑↓ ←→ 0-9 enter esc' : 'n new · x stop · r resume') : undefined;
  return (
    <Panel title={`Strategies (${live} live)`} width={width} height={height} focused={focused} hint={hint}>
      <Box flexDirection="column">
        <Header cols={cols} />
        {list.length === 0 && <Text color={muted}>{focused ? 'no strategies; n starts one' : 'no strategies; focus this panel (Tab) and press n to start one'}</Text>}
        {list.slice(first, first + rows).map((s) => (
          <Row key={s.id} s={s} cols={cols} selected={s === selected} focused={focused} />
        ))}
        {selected && !draft && (
          <Text wrap="truncate" color={selected.error ? toneColor(theme, 'warn') : muted}>
            {detailText(selected, inst)}
          </Text>
        )}
        {draft && (
          <>
            <Box>
              <Text>new </Text>
              <DraftFields ctx={formCtx()} draft={draft} field={field} backtest={false} active />
            </Box>
            <Text color={muted} wrap="truncate">
              [enter] start · [esc] cancel · ↑↓ field · ←→ change · type digits into a param
            </Text>
          </>
        )}
        {confirm && (
          <Text color={toneColor(theme, 'warn')} wrap="truncate">
            stop {confirm}? its onStop runs, its open orders stay · [y] stop · any other key keeps it
          </Text>
        )}
        {busy && <Text color={muted}>working…</Text>}
        {result && !busy && (
          <Text wrap="truncate" color={toneColor(theme, result.ok ? 'good' : 'bad')}>
            {result.text}
          </Text>
        )}
      </Box>
    </Panel>
  );
}
