import { useEffect, useReducer, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { roundedAmount } from '../../commands/trading-output.js';
import type { Amount } from '../../engine/orders/types.js';
import { backtestRuns, type BacktestRunState } from '../backtest-runs.js';
import { equityChart } from '../chart/equity.js';
import { group } from '../format.js';
import { useTui } from '../hooks.js';
import { useKeyState, usePanelCapture, usePanelKeys } from '../keys.js';
import type { BacktestReport, BacktestRequest } from '../sources/strategies.js';
import { paramsText } from '../strategy-commands.js';
import { draftParams, formFields, newDraft, rangeBounds, templateOf, type FieldKey, type FormContext, type StrategyDraft } from '../strategy-form.js';
import { toneColor } from '../theme.js';
import { Panel, inner } from './Panel.js';
import { DraftFields, editDraftKey } from './StrategyForm.js';

// Annualised figures of a short run get astronomic; print them short rather than pretend precision.
const fixed = (x: number, d: number): string => (Math.abs(x) >= 1e6 ? x.toExponential(1) : x.toFixed(d));
const pct = (x: number | null, sign = false): string => (x === null || !Number.isFinite(x) ? 'n/a' : `${sign && x > 0 ? '+' : ''}${fixed(x * 100, 2)} %`);
const num = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : fixed(x, 2));
/** An exact amount at cents, rounded half away from zero, grouped. */
const cents = (a: Amount): string => group(roundedAmount(a, 2));

/** `████████░░░░ 42 %` in `width` columns. */
export function progressBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const label = ` ${Math.floor(f * 100)} %`;
  const cells = Math.max(4, width - label.length);
  const full = Math.round(f * cells);
  return '█'.repeat(full) + '░'.repeat(cells - full) + label;
}

/** The metrics summary of a finished backtest, in lines of text. */
export function summaryLines(r: BacktestReport): string[] {
  const m = r.metrics;
  const q = r.quoteAsset;
  const params = paramsText(r.params);
  return [
    `${r.strategy} ${r.symbol} ${r.interval}${params ? ` ${params}` : ''} · ${r.data} · ${r.model} · ${r.candles} candles`,
    `return ${pct(m.totalReturn, true)} · max dd ${pct(m.maxDrawdown === 0 ? 0 : -m.maxDrawdown)} · sharpe ${num(m.sharpe)} · sortino ${num(m.sortino)} · win ${pct(m.winRate)} · PF ${num(m.profitFactor)}`,
    `trades ${m.trades}${m.openTrade ? ' (+1 open)' : ''} · fills ${m.fills} · fees ${cents(m.feesPaid)} ${q} · equity ${cents(r.equity.start)} → ${cents(r.equity.end)} ${q}`,
  ];
}

/** The launcher's run state, re-rendered on the frame timer when it changes. */
function useRunState(): BacktestRunState {
  const { source, frames } = useTui();
  const runs = backtestRuns(source.strategies);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const cb = useRef(() => rerender());
  useEffect(() => {
    const wake = cb.current;
    const off = runs.onChange(() => frames.request(wake));
    return () => {
      off();
      frames.cancel(wake);
    };
  }, [runs, frames]);
  return runs.state();
}

export interface BacktestProps {
  width: number;
  height: number;
  focused: boolean;
  /** The selected symbol: the form starts on it. */
  symbol: string;
}

/**
 * The backtest launcher: a built-in, a symbol, an interval, the data (stored candles or a
 * recording) and its range, and the strategy's params; Enter runs it off the UI thread with a
 * progress bar, then shows the metrics and the equity curve. Keys (focused): ↑↓ field, ←→ change,
 * digits type into a param (which then holds the keys until ↑↓ or Esc), Enter runs.
 */
export function Backtest({ width, height, focused, symbol }: BacktestProps) {
  const { source, theme, log } = useTui();
  const runs = backtestRuns(source.strategies);
  const run = useRunState();
  const formCtx = (): FormContext => ({ templates: source.strategies.templates(), symbols: source.symbols(), data: source.strategies.backtestData() });
  const [draft, setDraftState, draftRef] = useKeyState<StrategyDraft>(() => runs.draft ?? newDraft(formCtx(), symbol));
  const setDraft = (d: StrategyDraft): void => {
    runs.draft = d;
    setDraftState(d);
  };
  const [field, setField, fieldRef] = useKeyState<FieldKey>('strategy');
  const [note, setNote] = useState<string | undefined>(undefined);

  const numericField = (): boolean => {
    const f = fieldRef.current;
    if (!f.startsWith('p:')) return false;
    const spec = templateOf(formCtx(), draftRef.current)?.params.find((p) => p.name === f.slice(2))?.spec;
    return spec?.type === 'int' || spec?.type === 'number';
  };
  // A numeric param takes digits (and every other key) while it is the current field.
  usePanelCapture('backtest', { get current() { return numericField(); } });

  const launch = (): void => {
    const ctx = formCtx();
    const d = draftRef.current;
    const choice = ctx.data.find((c) => c.data === d.data) ?? ctx.data[0];
    if (!choice) {
      setNote('✗ no data to backtest on in this session');
      return;
    }
    const request: BacktestRequest = {
      strategy: d.strategy,
      symbol: d.symbol,
      interval: d.interval,
      params: draftParams(d),
      data: choice.data,
      ...rangeBounds(d.range, choice.kind === 'store', source.feed().marketTime),
    };
    setNote(undefined);
    if (!runs.run(request, log)) setNote('a backtest is running already; wait for it to finish');
  };

  usePanelKeys('backtest', (input, key) => {
    if (key.return) return launch();
    if (key.escape) {
      setNote(undefined);
      if (numericField()) setField('strategy');
      return;
    }
    editDraftKey(formCtx(), true, { draft: draftRef.current, field: fieldRef.current }, input, key, { draft: setDraft, field: setField });
  });

  const ctx = formCtx();
  const { w, h } = inner(width, height);
  const muted = toneColor(theme, 'muted');
  const fields = formFields(ctx, draft, true);
  const current = fields.includes(field) ? field : 'strategy';
  const report = run.status === 'done' ? run.report : undefined;
  const summary = report ? summaryLines(report) : [];
  // Rows: the form (up to 2), the status line, the summary, the strategy's error; the chart takes the rest.
  const formRows = 2;
  const used = formRows + 1 + summary.length + (report?.error ? 1 : 0) + (note ? 1 : 0);
  const chartRows = h - used;
  const chart = report && chartRows >= 3 ? equityChart(report.equity.curve.map((p) => p.equity), { width: w, height: chartRows }) : [];

  let status: { text: string; tone?: 'good' | 'bad' | 'muted' | 'accent' };
  if (run.status === 'running') {
    const r = run.request!;
    const what = `${r.strategy} ${r.symbol ?? ''} ${r.interval ?? '1m'}`.replace(/\s+/g, ' ');
    status = { text: `${what} ${progressBar(run.progress, Math.max(10, Math.min(40, w - what.length - 2)))}`, tone: 'accent' };
  } else if (run.status === 'failed') status = { text: `✗ ${run.error ?? 'failed'}`, tone: 'bad' };
  else if (run.status === 'done') status = { text: `✓ done`, tone: 'good' };
  else status = { text: focused ? 'Enter runs the backtest' : 'Tab here, choose with ↑↓ ←→, Enter runs', tone: 'muted' };

  const hint = focused ? 'enter run · ↑↓ field · ←→ change · 0-9 params' : undefined;
  return (
    <Panel title="Backtest" width={width} height={height} focused={focused} hint={hint}>
      <Box flexDirection="column">
        <Box height={formRows} overflow="hidden">
          <DraftFields ctx={ctx} draft={draft} field={current} backtest active={focused} />
        </Box>
        <Text wrap="truncate" color={toneColor(theme, status.tone)}>
          {status.text}
        </Text>
        {note && (
          <Text wrap="truncate" color={toneColor(theme, 'warn')}>
            {note}
          </Text>
        )}
        {summary.map((line, i) => (
          <Text key={i} wrap="truncate" color={i === 0 ? muted : undefined}>
            {line}
          </Text>
        ))}
        {report?.error && (
          <Text wrap="truncate" color={toneColor(theme, 'warn')}>
            paused after it threw in {report.error.callback}: {report.error.message}; the figures stop there
          </Text>
        )}
        {chart.map((line, i) => (
          <Text key={`c${i}`} color={toneColor(theme, report && report.equity.end >= report.equity.start ? 'up' : 'down')}>
            {line}
          </Text>
        ))}
      </Box>
    </Panel>
  );
}
