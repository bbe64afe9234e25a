import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParseError, UsageError } from '../../errors.js';
import { readRecording, readRecordingHeader, RecordingWriter, type RecordingLine } from './recording.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-rec-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function all(p: string, warnings: string[] = []): Promise<RecordingLine[]> {
  const out: RecordingLine[] = [];
  for await (const l of readRecording(p, { onWarning: (w) => warnings.push(w) })) out.push(l);
  return out;
}

const frameText = (i: number): string =>
  `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":${1723161255343 + i},"s":"BTCUSDT","a":${100 + i},"p":"61837.63000000","q":"0.02000000","f":${500 + i},"l":${500 + i},"T":${1723161255342 + i},"m":true,"M":true}}`;

async function writeSample(p: string, n: number, opts: { flushEveryMs?: number } = {}): Promise<RecordingWriter> {
  const w = await RecordingWriter.open(p, opts);
  w.header({ source: 'binance-spot', symbols: ['BTCUSDT'], channels: ['aggTrade', 'depth'], startedAt: 1723161254000 });
  w.rest(1723161254100.25, '/api/v3/depth?symbol=BTCUSDT&limit=1000', { lastUpdateId: 7, bids: [['1.00', '2.0']], asks: [] });
  for (let i = 0; i < n; i++) {
    if (!w.frame(1723161254200.5 + i, frameText(i))) await w.drained();
  }
  return w;
}

describe('RecordingWriter + readRecording', () => {
  for (const ext of ['jsonl', 'jsonl.gz']) {
    it(`round-trips header, REST replies and raw frames (.${ext})`, async () => {
      const p = path.join(dir, `rec.${ext}`);
      const w = await writeSample(p, 3);
      w.frame(1723161255000, { stream: 'ethusdt@trade', data: { e: 'trade', t: 1 } });
      await w.close();
      expect(w.lines).toBe(6);
      const lines = await all(p);
      expect(lines.map((l) => l.kind)).toEqual(['header', 'rest', 'frame', 'frame', 'frame', 'frame']);
      expect(lines[0]).toMatchObject({ kind: 'header', header: { qtrade: 'recording', version: 1, symbols: ['BTCUSDT'] } });
      expect(lines[1]).toMatchObject({ kind: 'rest', r: 1723161254100.25, rest: '/api/v3/depth?symbol=BTCUSDT&limit=1000', body: { lastUpdateId: 7 } });
      const f = lines[3]!;
      expect(f.kind === 'frame' && JSON.stringify(f.frame)).toBe(frameText(1));
      expect(f).toMatchObject({ r: 1723161254201.5, line: 4 });
      expect(lines[5]).toMatchObject({ frame: { stream: 'ethusdt@trade' } });
      expect(await readRecordingHeader(p)).toMatchObject({ source: 'binance-spot', channels: ['aggTrade', 'depth'] });
      if (ext.endsWith('gz')) expect(readFileSync(p).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      else expect(readFileSync(p, 'utf8').split('\n')[3]).toBe(`{"r":1723161254201.5,"f":${frameText(1)}}`);
    });
  }

  it('keeps raw frame text byte for byte and rewrites frames that span lines', async () => {
    const p = path.join(dir, 'raw.jsonl');
    const w = await RecordingWriter.open(p);
    w.frame(1, '{"stream":"x@trade","data":{"p":"1.10"}}');
    w.frame(2, '{"stream":"x@trade",\n"data":{"p":"1.10"}}');
    await w.close();
    expect(readFileSync(p, 'utf8')).toBe('{"r":1,"f":{"stream":"x@trade","data":{"p":"1.10"}}}\n{"r":2,"f":{"stream":"x@trade","data":{"p":"1.10"}}}\n');
  });

  it('reads files without a header', async () => {
    const p = path.join(dir, 'nohead.jsonl');
    writeFileSync(p, `{"r":1,"f":${frameText(0)}}\n\n{"r":2,"f":${frameText(1)}}\n`);
    const lines = await all(p);
    expect(lines.map((l) => l.kind)).toEqual(['frame', 'frame']);
    expect(lines[1]!.line).toBe(3);
  });

  it('reads a truncated gzip tail up to the last flush point, with a warning', async () => {
    const p = path.join(dir, 'cut.jsonl.gz');
    const w = await writeSample(p, 200);
    await w.flush();
    const flushed = statSync(p).size;
    // While the writer is still open (a process killed now), the file reads up to the flush point.
    const early: string[] = [];
    expect(await all(p, early)).toHaveLength(202);
    expect(early).toEqual([expect.stringMatching(/truncated gzip stream after line 202/)]);
    for (let i = 200; i < 400; i++) w.frame(1723161254200.5 + i, frameText(i));
    await w.flush();
    await w.close();
    // Cut into the second flushed block, as a killed `qtrade record` would leave it.
    truncateSync(p, flushed + Math.floor((statSync(p).size - flushed) / 2));
    const warnings: string[] = [];
    const lines = await all(p, warnings);
    expect(lines.length).toBeGreaterThanOrEqual(202);
    expect(lines.length).toBeLessThan(402);
    const frames = lines.filter((l) => l.kind === 'frame');
    frames.forEach((l, i) => expect(l.kind === 'frame' && (l.frame.data as { a: number }).a).toBe(100 + i));
    expect(warnings.join('\n')).toMatch(/truncated gzip|incomplete line/);
  });

  it('forgives a cut-off last line of a plain file, with a warning', async () => {
    const p = path.join(dir, 'cut.jsonl');
    writeFileSync(p, `{"r":1,"f":${frameText(0)}}\n{"r":2,"f":{"stream":"btcus`);
    const warnings: string[] = [];
    const lines = await all(p, warnings);
    expect(lines).toHaveLength(1);
    expect(warnings[0]).toMatch(/incomplete line 2/);
  });

  it('names the line of a malformed line', async () => {
    const p = path.join(dir, 'bad.jsonl.gz');
    writeFileSync(p, gzipSync(`{"r":1,"f":${frameText(0)}}\n{"r":2,"f":oops}\n{"r":3,"f":${frameText(1)}}\n`));
    await expect(all(p)).rejects.toThrow(ParseError);
    await expect(all(p)).rejects.toThrow(/bad\.jsonl\.gz:2: not JSON/);
  });

  it('rejects lines that are neither frames nor REST replies, even the complete last one', async () => {
    const p = path.join(dir, 'odd.jsonl');
    writeFileSync(p, `{"r":1,"f":${frameText(0)}}\n{"r":"x","f":{}}\n`);
    await expect(all(p)).rejects.toThrow(/odd\.jsonl:2: "r"/);
    writeFileSync(p, `{"r":1,"something":2}\n`);
    await expect(all(p)).rejects.toThrow(/:1: neither a frame/);
    writeFileSync(p, `{"r":1,"f":{"data":{}}}\n`);
    await expect(all(p)).rejects.toThrow(/combined-stream frame/);
  });

  it('reports a missing file as a usage error', async () => {
    await expect(all(path.join(dir, 'nope.jsonl'))).rejects.toThrow(UsageError);
    await expect(RecordingWriter.open(path.join(dir, 'no/such/dir/x.jsonl'))).rejects.toThrow(UsageError);
  });
});
