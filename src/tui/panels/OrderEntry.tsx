import { useRef, useState } from 'react';
import { Box, Text } from 'ink';
import type { Instrument } from '../../engine/market/types.js';
import { notional, scalesOf } from '../../engine/orders/amounts.js';
import type { OrderRequest } from '../../engine/orders/types.js';
import { orderRequestFromText, type PlacedOrder } from '../../engine/trading.js';
import { describeError, fmtAmount, fmtPrice, fmtQty } from '../format.js';
import { useTui } from '../hooks.js';
import type { OrderTicket, VenueName } from '../source.js';
import { toneColor, VENUE_LABEL, VENUE_TONE } from '../theme.js';
import { useKeyState, usePanelKeys } from '../keys.js';
import { placeTicket } from '../place.js';
import { Panel, inner } from './Panel.js';

export const ENTRY_TYPES = ['LIMIT', 'MARKET', 'LIMIT_MAKER'] as const;
export const ENTRY_TIFS = ['GTC', 'IOC', 'FOK'] as const;

/** The order being typed; kept by the app so it survives layout switches. */
export interface OrderDraft {
  side: 'BUY' | 'SELL';
  type: (typeof ENTRY_TYPES)[number];
  qty: string;
  price: string;
  tif: (typeof ENTRY_TIFS)[number];
}

export const EMPTY_DRAFT: OrderDraft = { side: 'BUY', type: 'LIMIT', qty: '', price: '', tif: 'GTC' };

type Field = 'side' | 'type' | 'qty' | 'price' | 'tif';

/** Fields that apply to the draft's type, in order. */
export function fieldsOf(d: OrderDraft): Field[] {
  if (d.type === 'MARKET') return ['side', 'type', 'qty'];
  if (d.type === 'LIMIT_MAKER') return ['side', 'type', 'qty', 'price'];
  return ['side', 'type', 'qty', 'price', 'tif'];
}

/** The draft as the engine's order text (decimal strings; validation is the engine's). */
export function ticketOf(d: OrderDraft, symbol: string): OrderTicket {
  const t: OrderTicket = { symbol, side: d.side, type: d.type, qty: d.qty };
  if (d.type !== 'MARKET') t.limit = d.price;
  if (d.type === 'LIMIT') t.tif = d.tif;
  return t;
}

/** What the order would cost or bring, exact, at its price (a market order at the last trade). */
function estimate(inst: Instrument, d: OrderDraft, last: number | undefined): string | undefined {
  let req: OrderRequest;
  try {
    req = orderRequestFromText(inst, { side: d.side, qty: d.qty || undefined, limit: d.type === 'MARKET' ? undefined : d.price || undefined, type: d.type });
  } catch {
    return undefined;
  }
  const price = req.price ?? last;
  if (req.qty === undefined || price === undefined) return undefined;
  return `≈ ${fmtAmount(notional(price, req.qty, scalesOf(inst)))} ${inst.quoteAsset}`;
}

function cycle<T>(list: readonly T[], v: T, by: number): T {
  return list[(list.indexOf(v) + by + list.length) % list.length]!;
}

export function placedText(p: PlacedOrder, inst: Instrument): string {
  const o = p.order;
  const filled = o.executedQty > 0 ? `, filled ${fmtQty(o.executedQty, inst)}` : '';
  return `✓ order ${o.orderId} ${o.side} ${fmtQty(o.origQty, inst)} ${o.symbol} ${o.type}${o.price ? ` @ ${fmtPrice(o.price, inst)}` : ''} ${o.status}${filled}`;
}

export interface OrderEntryProps {
  width: number;
  height: number;
  focused: boolean;
  symbol: string;
  draft: OrderDraft;
  /** Updates the draft from its latest value (several keys may arrive before a render). */
  onDraft: (update: (d: OrderDraft) => OrderDraft) => void;
  /** The draft as the last key left it, before React renders it (useKeyState's ref). */
  draftRef?: { readonly current: OrderDraft };
  /** Where the order goes; anything but paper asks for a review first. Default: the source's venue. */
  venue?: VenueName;
}

/**
 * The order form: side, type, quantity, price, time in force. Enter sends it to the engine, which
 * checks it against the exchange filters and risk limits; a refusal is shown here with Binance's
 * code and message. Orders for testnet or mainnet go through a review step that names the venue.
 */
export function OrderEntry({ width, height, focused, symbol, draft, onDraft, draftRef: latest, venue: venueProp }: OrderEntryProps) {
  const { source, theme, log } = useTui();
  const venue = venueProp ?? source.info.venue;
  const inst = source.instrument(symbol);
  const [field, setField, fieldRef] = useKeyState<Field>('qty');
  const [reviewing, setReviewing, reviewingRef] = useKeyState(false);
  const [busy, setBusy, busyRef] = useKeyState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const own = useRef(draft);
  own.current = draft;
  const draftRef = latest ?? own;
  const fields = fieldsOf(draft);
  const current = fields.includes(field) ? field : 'qty';

  const send = (): void => {
    setReviewing(false);
    setBusy(true);
    setResult(undefined);
    void placeTicket(source, ticketOf(draftRef.current, symbol)).then((r) => {
      if (r.ok) {
        const p = r.placed;
        setResult({ ok: true, text: inst ? placedText(p, inst) : `✓ order ${p.order.orderId} ${p.order.status}` });
      } else {
        const d = describeError(r.error);
        setResult({ ok: false, text: `✗ ${d.text}` });
        // A refusal the engine published is on the log already (order refused: ...).
        if (!r.onLog) log.add('error', `order entry: ${d.text}`);
      }
      setBusy(false);
    });
  };

  usePanelKeys('entry', (input, key) => {
    if (busyRef.current) return;
    if (reviewingRef.current) {
      if (input === 'y' || key.return) send();
      else if (input === 'n' || key.escape) setReviewing(false);
      return;
    }
    const list = fieldsOf(draftRef.current);
    const at = Math.max(0, list.indexOf(fieldRef.current));
    const cur = list[at]!;
    if (key.upArrow) return setField(list[(at - 1 + list.length) % list.length]!);
    if (key.downArrow) return setField(list[(at + 1) % list.length]!);
    if (key.return) {
      if (venue === 'paper') send();
      else setReviewing(true);
      return;
    }
    if (key.escape) return setResult(undefined);
    if (input === 'b' || input === 's') return onDraft((d) => ({ ...d, side: input === 'b' ? 'BUY' : 'SELL' }));
    const by = key.leftArrow ? -1 : key.rightArrow || input === ' ' ? 1 : 0;
    if (by !== 0) {
      if (cur === 'side') onDraft((d) => ({ ...d, side: d.side === 'BUY' ? 'SELL' : 'BUY' }));
      if (cur === 'type') onDraft((d) => ({ ...d, type: cycle(ENTRY_TYPES, d.type, by) }));
      if (cur === 'tif') onDraft((d) => ({ ...d, tif: cycle(ENTRY_TIFS, d.tif, by) }));
      return;
    }
    const text: 'qty' | 'price' = cur === 'qty' || cur === 'price' ? cur : 'qty';
    if (key.backspace || key.delete) return onDraft((d) => ({ ...d, [text]: d[text].slice(0, -1) }));
    if (/^[0-9.]+$/.test(input)) {
      setField(text);
      onDraft((d) => ({ ...d, [text]: d[text] + input }));
    }
  });

  const { h } = inner(width, height);
  const accent = toneColor(theme, 'accent');
  const sideTone = toneColor(theme, draft.side === 'BUY' ? 'up' : 'down');
  const cell = (f: Field, text: string, color?: string) => (
    <Text inverse={focused && current === f} color={color} bold={f === 'side'}>
      {text}
    </Text>
  );
  const last = source.market(symbol)?.lastTrade?.price;
  const est = inst ? estimate(inst, draft, last) : undefined;
  const venueTag = <Text color={toneColor(theme, VENUE_TONE[venue])}>{VENUE_LABEL[venue]}</Text>;

  const body = reviewing ? (
    <Box flexDirection="column">
      <Text>Review, sending to {venueTag}:</Text>
      <Text bold color={sideTone} wrap="truncate">
        {draft.side} {draft.qty} {symbol} {draft.type}
        {draft.type !== 'MARKET' ? ` @ ${draft.price}` : ''}
        {draft.type === 'LIMIT' ? ` ${draft.tif}` : ''}
      </Text>
      <Text>{est ?? ''}</Text>
      <Text color={accent}>[y] send to {VENUE_LABEL[venue]} [n] back</Text>
    </Box>
  ) : (
    <Box flexDirection="column">
      <Text>
        {cell('side', draft.side.padEnd(4), sideTone)} {cell('type', draft.type)} {fields.includes('tif') ? cell('tif', draft.tif) : null}
      </Text>
      <Text wrap="truncate">
        qty{'   '}
        {cell('qty', (draft.qty || ' ') + (focused && current === 'qty' ? '▏' : ''))} {inst?.baseAsset ?? ''}
      </Text>
      {fields.includes('price') ? (
        <Text wrap="truncate">
          price{' '}
          {cell('price', (draft.price || ' ') + (focused && current === 'price' ? '▏' : ''))} {inst?.quoteAsset ?? ''}
        </Text>
      ) : (
        <Text color={toneColor(theme, 'muted')}>price market</Text>
      )}
      <Text wrap="truncate">
        {est ?? ' '} {h >= 6 ? <Text color={toneColor(theme, 'muted')}>on {VENUE_LABEL[venue]}</Text> : null}
      </Text>
      {h >= 6 && <Text wrap="truncate" color={toneColor(theme, 'muted')}>{focused ? (busy ? 'sending…' : `[enter] ${venue === 'paper' ? 'place' : 'review'} ↑↓ field ←→ set`) : 'b/s: buy/sell'}</Text>}
    </Box>
  );
  return (
    <Panel title={`Order entry ${symbol}`} width={width} height={height} focused={focused}>
      {body}
      {result && (
        <Text wrap="wrap" color={toneColor(theme, result.ok ? 'good' : 'bad')}>
          {result.text}
        </Text>
      )}
    </Panel>
  );
}
