import { memo } from 'react';
import { Box, Text } from 'ink';
import type { BookLevel, Instrument } from '../../engine/market/types.js';
import { fit, fmtPrice, fmtQty } from '../format.js';
import { useFeedStale, useSnapshot, useTui } from '../hooks.js';
import type { BookView } from '../source.js';
import { toneColor } from '../theme.js';
import { Panel, inner } from './Panel.js';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar `width` columns at most, in eighths of a column, for qty / max. */
export function sizeBar(qty: number, max: number, width: number): string {
  if (max <= 0 || width <= 0) return '';
  const eighths = Math.max(qty > 0 ? 1 : 0, Math.round((qty / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

function spreadLine(text: string, w: number): string {
  return text.length >= w ? fit(text, w) : text + '─'.repeat(w - text.length);
}

const sameLevels = (a: BookLevel[], b: BookLevel[]): boolean => a.length === b.length && a.every((l, i) => l.price === b[i]!.price && l.qty === b[i]!.qty);
const sameBook = (a: BookView | undefined, b: BookView | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.status === b.status && sameLevels(a.bids, b.bids) && sameLevels(a.asks, b.asks));

interface LevelProps {
  level: BookLevel;
  side: 'bid' | 'ask';
  inst: Instrument;
  max: number;
  priceW: number;
  qtyW: number;
  barW: number;
  dim: boolean;
}

const Level = memo(function Level({ level, side, inst, max, priceW, qtyW, barW, dim }: LevelProps) {
  const { theme } = useTui();
  const tone = toneColor(theme, side === 'bid' ? 'up' : 'down');
  return (
    <Text wrap="truncate" dimColor={dim}>
      <Text color={tone}>{fit(fmtPrice(level.price, inst), priceW, 'right')}</Text>
      <Text>{fit(fmtQty(level.qty, inst), qtyW, 'right')} </Text>
      <Text color={tone}>{sizeBar(level.qty, max, barW)}</Text>
    </Text>
  );
});

export interface OrderBookProps {
  width: number;
  height: number;
  focused: boolean;
  symbol: string;
}

/** Best asks above the spread, best bids below, with size bars; the local depth book when synced. */
export function OrderBook({ width, height, focused, symbol }: OrderBookProps) {
  const { source, theme } = useTui();
  const stale = useFeedStale();
  const { w, h } = inner(width, height);
  const n = Math.max(1, Math.floor((h - 1) / 2));
  const book = useSnapshot(['book.update', 'book.top'], (s) => s.book(symbol, n), { symbol, deps: [symbol, n], isEqual: sameBook });
  const inst = source.instrument(symbol);
  const title = `Order book ${symbol}`;
  if (!book || !inst || (book.bids.length === 0 && book.asks.length === 0)) {
    return (
      <Panel title={title} width={width} height={height} focused={focused} stale={stale}>
        <Text color={toneColor(theme, 'muted')}>{book ? `book ${book.status}…` : `no book for ${symbol} yet`}</Text>
      </Panel>
    );
  }
  const levels = [...book.asks, ...book.bids];
  const max = Math.max(...levels.map((l) => l.qty));
  const priceW = Math.max(...levels.map((l) => fmtPrice(l.price, inst).length)) + 1;
  const qtyW = Math.max(...levels.map((l) => fmtQty(l.qty, inst).length)) + 1;
  const barW = Math.max(0, w - priceW - qtyW - 1);
  const bestBid = book.bids[0];
  const bestAsk = book.asks[0];
  const spread = bestBid && bestAsk ? `spread ${fmtPrice(bestAsk.price - bestBid.price, inst)}` : 'spread –';
  const note = book.status === 'synced' ? '' : ` (top only: book ${book.status})`;
  const asks = [...book.asks].reverse();
  const pad = n - asks.length;
  return (
    <Panel title={title} width={width} height={height} focused={focused} stale={stale}>
      <Box flexDirection="column">
        {Array.from({ length: Math.max(0, pad) }, (_, i) => (
          <Text key={`pad${i}`}> </Text>
        ))}
        {asks.map((l) => (
          <Level key={`a${l.price}`} level={l} side="ask" inst={inst} max={max} priceW={priceW} qtyW={qtyW} barW={barW} dim={stale} />
        ))}
        <Text wrap="truncate" color={toneColor(theme, 'muted')}>
          {spreadLine(`── ${spread}${note} `, w)}
        </Text>
        {book.bids.map((l) => (
          <Level key={`b${l.price}`} level={l} side="bid" inst={inst} max={max} priceW={priceW} qtyW={qtyW} barW={barW} dim={stale} />
        ))}
      </Box>
    </Panel>
  );
}
