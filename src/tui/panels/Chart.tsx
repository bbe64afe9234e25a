import { memo, useMemo } from 'react';
import { Box, Text } from 'ink';
import { aggregateCandles } from '../../engine/candles/aggregate.js';
import type { Candle } from '../../engine/candles/types.js';
import { formatFixed, scaleOfStep } from '../../engine/fixed.js';
import type { Instrument } from '../../engine/market/types.js';
import { candleChart, type Line } from '../chart/candles.js';
import { lineChart } from '../chart/line.js';
import { CHART_INTERVALS, type ChartInterval } from '../commands.js';
import { fmtPrice, group, hm, md } from '../format.js';
import { useFeedStale, useSnapshot, useTui } from '../hooks.js';
import { toneColor, type Theme } from '../theme.js';
import { usePanelKeys } from '../keys.js';
import { Panel, inner } from './Panel.js';

export type ChartMode = 'candles' | 'line';

interface CandleSnap {
  candles: readonly Candle[];
  count: number;
  newest: Candle | undefined;
  partial: Candle | undefined;
}

/**
 * The symbol's candles at `interval`, aggregated exactly from the engine's closed 1m candles plus
 * the open one (candles/aggregate.ts), so the last bar moves with every trade.
 */
export function useCandles(symbol: string, interval: ChartInterval): Candle[] {
  const snap = useSnapshot<CandleSnap>(
    ['candle.partial', 'candle.closed', 'candle.incomplete'],
    (s) => {
      const m = s.market(symbol);
      return { candles: m?.candles ?? [], count: m?.candles.length ?? 0, newest: m?.candles[m.candles.length - 1], partial: m?.partial };
    },
    { symbol, deps: [symbol], isEqual: (a, b) => a.count === b.count && a.newest === b.newest && a.partial === b.partial && a.candles === b.candles },
  );
  return useMemo(() => {
    const all = snap.partial ? [...snap.candles, snap.partial] : [...snap.candles];
    return interval === '1m' ? all : aggregateCandles(all, interval);
  }, [snap, interval]);
}

const ChartLine = memo(function ChartLine({ line, theme }: { line: Line; theme: Theme }) {
  return (
    <Text wrap="truncate">
      {line.map((r, i) => (
        <Text key={i} color={toneColor(theme, r.tone)}>
          {r.text}
        </Text>
      ))}
    </Text>
  );
});

function ohlcv(c: Candle, inst: Instrument): string {
  const p = (raw: number) => fmtPrice(raw, inst);
  const vol = group(formatFixed(c.volume, c.qtyScale, scaleOfStep(inst.stepSize)));
  return `O ${p(c.open)} H ${p(c.high)} L ${p(c.low)} C ${p(c.close)} V ${vol}${c.closed ? '' : ' ·live'}`;
}

export interface ChartProps {
  width: number;
  height: number;
  focused: boolean;
  symbol: string;
  interval: ChartInterval;
  mode: ChartMode;
  /** The interval `delta` steps along CHART_INTERVALS (wrapping). */
  onIntervalStep: (delta: number) => void;
  onToggleMode: () => void;
}

/** Candlesticks (or a close line) of the selected symbol with volume, price and time axes. */
export function Chart({ width, height, focused, symbol, interval, mode, onIntervalStep, onToggleMode }: ChartProps) {
  const { source, theme } = useTui();
  const stale = useFeedStale();
  const candles = useCandles(symbol, interval);
  const inst = source.instrument(symbol);
  const { w, h } = inner(width, height);
  usePanelKeys('chart', (input, key) => {
    if (key.leftArrow) onIntervalStep(-1);
    if (key.rightArrow) onIntervalStep(1);
    if (input === 'l') onToggleMode();
  });
  const formatPrice = (raw: number): string => (inst ? fmtPrice(raw, inst) : String(raw));
  const lines = useMemo(() => {
    if (candles.length === 0 || w < 10 || h < 4) return [];
    if (mode === 'line') return lineChart(candles, { width: w, height: h - 1, formatPrice });
    return candleChart(candles, { width: w, height: h - 3, color: theme.color, formatPrice, formatTime: interval === '1d' ? md : hm }).lines;
    // formatPrice depends only on the instrument, which `candles` (and the symbol) already imply.
  }, [candles, w, h, mode, theme.color, interval]);
  const bar = CHART_INTERVALS.map((i) => (i === interval ? `[${i}]` : i)).join(' ');
  const last = candles[candles.length - 1];
  return (
    <Panel title={`${symbol} ${interval} · ${mode}`} width={width} height={height} focused={focused} stale={stale} hint={focused ? `←→ ${bar}  l` : bar}>
      {lines.length === 0 ? (
        <Box height={h} alignItems="center" justifyContent="center">
          <Text color={toneColor(theme, 'muted')}>waiting for {symbol} trades…</Text>
        </Box>
      ) : (
        <Box flexDirection="column">
          {lines.map((l, i) => (
            <ChartLine key={i} line={l} theme={theme} />
          ))}
          <Text wrap="truncate" dimColor={stale}>
            {last && inst ? ohlcv(last, inst) : ''}
          </Text>
        </Box>
      )}
    </Panel>
  );
}
