/**
 * Where the panels go, as a pure function of the terminal size, the chosen layout and the focus.
 * Rows of columns of stacked panels with exact sizes, so every panel knows its width and height
 * (titles in borders, chart columns, book depth). Panels that come later (AI, strategies,
 * system) are new ids placed here; nothing else changes.
 */

export type PanelId = 'watch' | 'chart' | 'book' | 'trades' | 'entry' | 'account' | 'orders' | 'fills' | 'positions' | 'balances' | 'log' | 'strategies' | 'backtest' | 'system' | 'ai' | 'alerts';

export interface PlacedPanel {
  id: PanelId;
  height: number;
}

export interface LayoutColumn {
  width: number;
  panels: PlacedPanel[];
}

export interface LayoutPlan {
  /** 'full' and 'compact' are layout 1 at large and small sizes. */
  name: 'full' | 'compact' | 'market' | 'account' | 'log' | 'strategies' | 'system' | 'assistant' | 'alerts';
  /** The one-line watchlist under the header (compact). */
  strip: boolean;
  /** The one-line account summary above the bottom line (compact). */
  accountLine: boolean;
  /** Height of the panel area. */
  bodyHeight: number;
  columns: LayoutColumn[];
  /** Panels that take keys, in Tab order ('watch' is the strip in compact). */
  focusable: PanelId[];
}

/** Layout numbers (number keys, `layout N`) of the strategies + backtest and the system + log screens. */
export const STRATEGIES_LAYOUT = 5;
export const SYSTEM_LAYOUT = 6;
/** The AI panel (with the watchlist and trades when there is room), and the alerts. */
export const ASSISTANT_LAYOUT = 7;
export const ALERTS_LAYOUT = 8;

/** Layout numbers that exist. */
export const LAYOUTS: readonly number[] = [1, 2, 3, 4, STRATEGIES_LAYOUT, SYSTEM_LAYOUT, ASSISTANT_LAYOUT, ALERTS_LAYOUT];

/** The full dashboard needs about this much room; below it layout 1 is the compact one. */
export const FULL_MIN = { columns: 140, rows: 40 };

export interface LayoutInput {
  columns: number;
  /** Rows the app may use (the terminal's rows less one, so Ink never clears the screen). */
  rows: number;
  /** One of LAYOUTS. */
  layout: number;
  symbols: number;
  focus: PanelId | undefined;
}

const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));

function stack(width: number, ...panels: Array<[PanelId, number]>): LayoutColumn {
  return { width, panels: panels.map(([id, height]) => ({ id, height: Math.max(3, height) })) };
}

export function planLayout(inp: LayoutInput): LayoutPlan {
  const C = Math.max(40, inp.columns);
  const R = Math.max(12, inp.rows);
  const side = C >= 120 ? 32 : clamp(Math.floor(C * 0.36), 24, 34);

  if (inp.layout === 2) {
    const B = R - 2;
    const wl = clamp(inp.symbols + 2, 4, Math.floor(B / 3));
    return {
      name: 'market',
      strip: false,
      accountLine: false,
      bodyHeight: B,
      columns: [stack(side, ['watch', wl], ['trades', B - wl]), stack(C - 2 * side, ['chart', B]), stack(side, ['book', B])],
      focusable: ['watch', 'chart'],
    };
  }
  if (inp.layout === 3) {
    const B = R - 2;
    const right = Math.max(side, 36);
    const entry = clamp(9, 7, B - 6);
    const pos = Math.floor((B - entry) / 2);
    return {
      name: 'account',
      strip: false,
      accountLine: false,
      bodyHeight: B,
      columns: [stack(C - right, ['orders', Math.ceil(B / 2)], ['fills', Math.floor(B / 2)]), stack(right, ['entry', entry], ['positions', pos], ['balances', B - entry - pos])],
      focusable: ['orders', 'entry'],
    };
  }
  if (inp.layout === STRATEGIES_LAYOUT) {
    // The live strategies over the backtest launcher, which needs the room for its result and chart.
    const B = R - 2;
    const top = clamp(Math.round(B * 0.38), 7, Math.max(7, B - 10));
    return {
      name: 'strategies',
      strip: false,
      accountLine: false,
      bodyHeight: B,
      columns: [stack(C, ['strategies', top], ['backtest', B - top])],
      focusable: ['strategies', 'backtest'],
    };
  }
  if (inp.layout === SYSTEM_LAYOUT) {
    const B = R - 2;
    if (C >= 120) {
      const left = Math.floor(C * 0.55);
      return { name: 'system', strip: false, accountLine: false, bodyHeight: B, columns: [stack(left, ['system', B]), stack(C - left, ['log', B])], focusable: [] };
    }
    const top = clamp(B - 7, Math.min(B - 3, 14), B - 3);
    return { name: 'system', strip: false, accountLine: false, bodyHeight: B, columns: [stack(C, ['system', top], ['log', B - top])], focusable: [] };
  }
  if (inp.layout === 4) {
    const B = R - 2;
    return { name: 'log', strip: false, accountLine: false, bodyHeight: B, columns: [stack(C, ['log', B])], focusable: [] };
  }
  if (inp.layout === ASSISTANT_LAYOUT) {
    const B = R - 2;
    if (C < 100) return { name: 'assistant', strip: false, accountLine: false, bodyHeight: B, columns: [stack(C, ['ai', B])], focusable: ['ai'] };
    const wl = clamp(inp.symbols + 2, 4, Math.floor(B / 3));
    return { name: 'assistant', strip: false, accountLine: false, bodyHeight: B, columns: [stack(C - side, ['ai', B]), stack(side, ['watch', wl], ['trades', B - wl])], focusable: ['ai', 'watch'] };
  }
  if (inp.layout === ALERTS_LAYOUT) {
    const B = R - 2;
    return { name: 'alerts', strip: false, accountLine: false, bodyHeight: B, columns: [stack(C, ['alerts', B])], focusable: [] };
  }

  if (C >= FULL_MIN.columns && R >= FULL_MIN.rows - 1) {
    const B = R - 2;
    const wl = clamp(inp.symbols + 2, 5, Math.floor(B / 3));
    const chart = Math.round(B * 0.62);
    const entry = 10;
    // Trades above the AI panel, which takes the larger part of the left column (design/tui.md).
    const trades = Math.max(6, Math.floor((B - wl) * 0.4));
    return {
      name: 'full',
      strip: false,
      accountLine: false,
      bodyHeight: B,
      columns: [
        stack(side, ['watch', wl], ['trades', trades], ['ai', B - wl - trades]),
        stack(C - 2 * side, ['chart', chart], ['account', B - chart]),
        stack(side, ['book', B - entry], ['entry', entry]),
      ],
      focusable: ['watch', 'chart', 'account', 'entry', 'ai'],
    };
  }

  // Compact: the chart and one side panel; the account takes the chart's place while focused and
  // the order form the book's.
  const B = R - 4;
  const left: PanelId = inp.focus === 'account' ? 'account' : 'chart';
  const right: PanelId = inp.focus === 'entry' ? 'entry' : 'book';
  return {
    name: 'compact',
    strip: true,
    accountLine: true,
    bodyHeight: B,
    columns: [stack(C - side, [left, B]), stack(side, [right, B])],
    focusable: ['watch', 'chart', 'entry', 'account'],
  };
}
