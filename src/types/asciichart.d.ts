// asciichart ships no types; this covers what qtrade calls.
declare module 'asciichart' {
  export interface PlotConfig {
    height?: number;
    min?: number;
    max?: number;
    offset?: number;
    padding?: string;
    colors?: string[];
    symbols?: string[];
    format?: (x: number, i: number) => string;
  }
  export function plot(series: number[] | number[][], cfg?: PlotConfig): string;
  export const green: string;
  export const red: string;
  export const cyan: string;
  export const reset: string;
  const asciichart: { plot: typeof plot; green: string; red: string; cyan: string; reset: string };
  export default asciichart;
}
