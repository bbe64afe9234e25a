import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { Unzip, UnzipInflate } from 'fflate';
import { ParseError, UsageError } from '../../errors.js';

export type Compression = 'zip' | 'gz' | 'none';

/** A run of complete lines from a file; `firstLine` is the 1-based number of lines[0]. */
export interface LineBatch {
  lines: string[];
  firstLine: number;
}

const CHUNK = 1 << 20;

/** Compression from the file's first bytes (zip: PK\3\4, gzip: 1f 8b), else from the name. */
export async function detectCompression(file: string): Promise<Compression> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new UsageError(`cannot open ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'check the path',
      cause: err,
    });
  }
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    if (bytesRead >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 3 && buf[3] === 4) return 'zip';
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gz';
    return 'none';
  } finally {
    await fh.close();
  }
}

/** The uncompressed bytes of a file, a chunk at a time; a .zip yields its first entry only. */
export async function* readBytes(file: string, compression?: Compression): AsyncGenerator<Uint8Array> {
  const comp = compression ?? (await detectCompression(file));
  const input = createReadStream(file, { highWaterMark: CHUNK });
  if (comp === 'gz') {
    const gunzip = input.pipe(createGunzip({ chunkSize: CHUNK }));
    input.on('error', (err) => gunzip.destroy(err));
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      throw new ParseError(`${file}: not a readable gzip file (${(err as Error).message})`, { cause: err });
    }
    return;
  }
  if (comp === 'none') {
    for await (const chunk of input) yield chunk as Buffer;
    return;
  }
  // fflate's streaming Unzip inflates synchronously inside push(), so the output of each
  // input chunk is ready to hand on before the next one is read: memory stays at a chunk or so.
  const out: Uint8Array[] = [];
  let failure: Error | undefined;
  let seen = false;
  let done = false;
  const unzip = new Unzip((entry) => {
    if (seen) return;
    seen = true;
    entry.ondata = (err, data, final) => {
      if (err) failure = err;
      else if (data.length) out.push(data);
      if (final) done = true;
    };
    entry.start();
  });
  unzip.register(UnzipInflate);
  try {
    for await (const chunk of input) {
      if (done) break;
      unzip.push(chunk as Buffer, false);
      if (failure) throw failure;
      while (out.length) yield out.shift()!;
    }
    if (!done) unzip.push(new Uint8Array(0), true);
    if (failure) throw failure;
    while (out.length) yield out.shift()!;
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw new ParseError(`${file}: not a readable zip file (${(err as Error).message})`, { cause: err });
  } finally {
    input.destroy();
  }
  if (!seen) throw new ParseError(`${file}: the zip archive has no entries`);
}

/** Complete lines in batches (CR LF tolerated, trailing empty line dropped); constant memory. */
export async function* readLines(file: string, compression?: Compression): AsyncGenerator<LineBatch> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  let lineNo = 1;
  for await (const bytes of readBytes(file, compression)) {
    const text = rest + decoder.decode(bytes, { stream: true });
    const lines = text.split('\n');
    rest = lines.pop()!;
    if (lines.length === 0) continue;
    yield { lines, firstLine: lineNo };
    lineNo += lines.length;
  }
  rest += decoder.decode();
  if (rest.length > 0 && rest !== '\r') yield { lines: [rest], firstLine: lineNo };
}
