import fs from 'node:fs';
import type { Command } from 'commander';
import { parseInterval } from '../engine/candles/intervals.js';
import { UsageError } from '../engine/errors.js';
import { downloadKlines, importFile, type DownloadSummary, type ImportSummary } from '../engine/market/history.js';
import { Instruments } from '../engine/market/instruments.js';
import { openStore } from '../engine/store/open.js';
import type { Store } from '../engine/store/types.js';
import { parseTime } from './args.js';
import { action, out, settingsFor } from './context.js';
import { utcTime } from './format.js';
import { binanceEndpoints, binanceRest } from './market.js';
import { Progress } from './progress.js';

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** Turns the first Ctrl-C into an abort; a second one ends the process the usual way. */
function interruptible(onFirst: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (): void => {
    controller.abort();
    onFirst();
  };
  process.once('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}

export function register(program: Command): void {
  const history = program.command('history').description('download and import historical candles into the store');

  history
    .command('download <symbol>')
    .description('download klines over Binance REST into the store; resumes where an earlier run stopped')
    .option('--interval <interval>', 'kline interval (1m, 5m, 1h, 1d, ...)', '1m')
    .requiredOption('--from <date>', 'first open time (date, date-time, UTC unless zoned, or epoch ms)')
    .option('--to <date>', 'end of the range, exclusive (default: now)', 'now')
    .option('--json', 'print a JSON summary')
    .action(
      action(async (symbolArg: string, opts: { interval: string; from: string; to: string; json?: boolean }, cmd: Command) => {
        const interval = parseInterval(opts.interval);
        const from = parseTime(opts.from, '--from');
        const to = parseTime(opts.to, '--to');
        if (from >= to) throw new UsageError(`--from ${utcTime(from)} is not before --to ${utcTime(to)}`, { hint: 'swap them or widen the range' });
        const settings = settingsFor(cmd);
        const rest = binanceRest(binanceEndpoints(settings));
        const info = await rest.exchangeInfo();
        const instrument = Instruments.fromExchangeInfo(info).get(symbolArg);
        const store = await openStore(settings.storeUrl());
        const tty = !opts.json && process.stderr.isTTY === true;
        const bar = tty ? new Progress({ stream: process.stderr, label: `${instrument.symbol} ${interval}` }) : undefined;
        const stop = interruptible(() => {
          bar?.done();
          out.err('stopping after the current page…');
        });
        let summary: DownloadSummary;
        try {
          await store.upsertInstruments([instrument]);
          summary = await downloadKlines({
            rest,
            store,
            symbol: instrument.symbol,
            interval,
            from,
            to,
            signal: stop.signal,
            ...(info.serverTime === undefined ? {} : { serverTime: info.serverTime }),
            onProgress: (p) => bar?.update(p.total ? p.done / p.total : 1, `${p.candles} candles, ${p.pages} pages`),
          });
        } finally {
          stop.dispose();
          bar?.done();
          await store.close();
        }
        if (opts.json) {
          out.json({ ...summary, fromIso: iso(summary.from), toIso: iso(summary.to), firstIso: iso(summary.first), lastIso: iso(summary.last), store: store.kind });
        } else if (summary.upToDate) {
          out.line(`${summary.symbol} ${interval}: ${utcTime(from)} → ${utcTime(to)} UTC is already in the store (no download needed)`);
        } else {
          const range = summary.first === undefined ? 'no closed candles in that range' : `${utcTime(summary.first)} → ${utcTime(summary.last!)} UTC`;
          out.line(`${summary.symbol} ${interval}: ${summary.candles} candles written from ${summary.pages} page${summary.pages === 1 ? '' : 's'}, ${range}`);
        }
        if (summary.interrupted) {
          out.err('interrupted: what was downloaded is saved; run the same command again to resume');
          process.exitCode = 130;
        }
      }),
    );

  history
    .command('import <files...>')
    .description('import data.binance.vision klines or aggTrades/trades files (CSV or .zip) into the store')
    .option('--symbol <symbol>', 'symbol, when the file name does not say it')
    .option('--interval <interval>', 'interval of a klines file, when its name does not say it')
    .option('--json', 'print a JSON summary per file')
    .action(
      action(async (files: string[], opts: { symbol?: string; interval?: string; json?: boolean }, cmd: Command) => {
        const interval = opts.interval === undefined ? undefined : parseInterval(opts.interval);
        for (const f of files) {
          if (!fs.existsSync(f)) throw new UsageError(`no such file: ${f}`, { hint: 'give the path of a downloaded data.binance.vision .csv or .zip' });
        }
        const settings = settingsFor(cmd);
        const store: Store = await openStore(settings.storeUrl());
        const tty = !opts.json && process.stderr.isTTY === true;
        const stop = interruptible(() => out.err('stopping after the current batch…'));
        const results: ImportSummary[] = [];
        try {
          for (const [index, file] of files.entries()) {
            if (stop.signal.aborted) break;
            const bar = tty ? new Progress({ stream: process.stderr, label: file }) : undefined;
            try {
              const r = await importFile(file, store, {
                ...(opts.symbol ? { symbol: opts.symbol } : {}),
                ...(interval ? { interval } : {}),
                signal: stop.signal,
                onProgress: (n) => bar?.update(index / files.length, `file ${index + 1}/${files.length}, ${n} candles`),
              });
              results.push(r);
            } finally {
              bar?.done();
            }
            const r = results[results.length - 1]!;
            if (!opts.json) {
              const range = r.first === undefined ? 'no candles' : `${utcTime(r.first)} → ${utcTime(r.last!)} UTC`;
              const from = r.kind === 'klines' ? '' : ` from ${r.trades} trades`;
              const left = r.incomplete > 0 ? `; ${r.incomplete} incomplete minute${r.incomplete === 1 ? '' : 's'} left out` : '';
              out.line(`${file}: ${r.candles} ${r.symbol} ${r.interval ?? ''} candles${from}, ${range}${left}`.replace(/ {2,}/g, ' '));
            }
          }
        } finally {
          stop.dispose();
          await store.close();
        }
        if (opts.json) out.json(results.map((r) => ({ ...r, firstIso: iso(r.first), lastIso: iso(r.last) })));
        if (stop.signal.aborted || results.some((r) => r.interrupted)) {
          out.err('interrupted: the files imported so far are saved; run the command again for the rest (imports are idempotent)');
          process.exitCode = 130;
        }
      }),
    );
}
