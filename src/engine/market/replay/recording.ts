import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { constants as zlibConstants, createGunzip, createGzip, type Gzip } from 'node:zlib';
import { ParseError, UsageError } from '../../errors.js';

/**
 * qtrade's recording format: gzip'd or plain JSONL. An optional header line, then one
 * line per received WebSocket frame (`{"r": recvMs, "f": {"stream","data"}}`) or REST
 * reply (`{"r": recvMs, "rest": "/api/v3/depth?...", "body": ...}`).
 */
export interface RecordingHeader {
  qtrade: 'recording';
  version: 1;
  source: string;
  symbols: string[];
  channels: string[];
  startedAt: number;
}

/** A combined-stream envelope exactly as Binance sends it. */
export interface CombinedFrame {
  stream: string;
  data: unknown;
}

export type RecordingLine =
  | { kind: 'header'; line: number; header: RecordingHeader }
  | { kind: 'frame'; line: number; r: number; frame: CombinedFrame }
  | { kind: 'rest'; line: number; r: number; rest: string; body: unknown };

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export interface RecordingWriterOptions {
  /** Gzip the output; default: when the path ends in .gz. */
  gzip?: boolean;
  /**
   * How often (ms) a gzip'd recording is sync-flushed, so a killed process leaves a file
   * readable up to the last flush point. 0 turns the timer off. Default 1000.
   */
  flushEveryMs?: number;
  /** gzip level, default 6. */
  level?: number;
}

/**
 * Appends recording lines to a file through a stream. Lines are buffered by the stream;
 * `write*` return false when the caller should `await drained()` before writing more.
 */
export class RecordingWriter {
  readonly path: string;
  private readonly file: WriteStream;
  private readonly gz: Gzip | undefined;
  private readonly sink: NodeJS.WritableStream;
  private readonly timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private dirty = false;
  private count = 0;

  private constructor(path: string, file: WriteStream, gz: Gzip | undefined, flushEveryMs: number) {
    this.path = path;
    this.file = file;
    this.gz = gz;
    this.sink = gz ?? file;
    const fail = (err: Error): void => {
      this.failure ??= err;
    };
    file.on('error', fail);
    gz?.on('error', fail);
    if (gz && flushEveryMs > 0) {
      this.timer = setInterval(() => {
        if (this.dirty && !this.closing) {
          this.dirty = false;
          gz.flush(zlibConstants.Z_SYNC_FLUSH);
        }
      }, flushEveryMs);
      this.timer.unref();
    }
  }

  /** Opens (truncates) `path` for writing; resolves once the file is open. */
  static async open(path: string, opts: RecordingWriterOptions = {}): Promise<RecordingWriter> {
    const gzip = opts.gzip ?? path.endsWith('.gz');
    const file = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (err) =>
        reject(new UsageError(`cannot write recording "${path}": ${err.message}`, { cause: err, hint: 'check that the directory exists and is writable' })),
      );
    });
    const gz = gzip ? createGzip({ level: opts.level ?? 6 }) : undefined;
    if (gz) gz.pipe(file);
    return new RecordingWriter(path, file, gz, opts.flushEveryMs ?? 1000);
  }

  /** Lines written so far (header included). */
  get lines(): number {
    return this.count;
  }

  /** Bytes that reached the file so far (compressed size for .gz). */
  get bytes(): number {
    return this.file.bytesWritten;
  }

  header(h: Omit<RecordingHeader, 'qtrade' | 'version'>): boolean {
    const full: RecordingHeader = { qtrade: 'recording', version: 1, ...h };
    return this.writeLine(JSON.stringify(full));
  }

  /**
   * A WebSocket frame. A string is taken as the frame's raw text and kept byte for byte
   * when it is valid single-line JSON; it is re-serialised only if it spans lines.
   */
  frame(r: number, frame: CombinedFrame | string): boolean {
    let text: string;
    if (typeof frame === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(frame);
      } catch (err) {
        throw new ParseError(`frame is not JSON: ${(err as Error).message}`, { cause: err });
      }
      text = /[\r\n]/.test(frame) ? JSON.stringify(parsed) : frame.trim();
    } else {
      text = JSON.stringify(frame);
    }
    return this.writeLine(`{"r":${numberText(r)},"f":${text}}`);
  }

  /** A REST reply: `rest` is the request path with its query, `body` the parsed JSON (or its raw text). */
  rest(r: number, rest: string, body: unknown): boolean {
    const bodyText = typeof body === 'string' && !/[\r\n]/.test(body) ? body : JSON.stringify(typeof body === 'string' ? JSON.parse(body) : body);
    return this.writeLine(`{"r":${numberText(r)},"rest":${JSON.stringify(rest)},"body":${bodyText}}`);
  }

  /** Resolves when the stream can take more writes. */
  drained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const s = this.sink as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (!s.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => s.once('drain', () => resolve()));
  }

  /** Pushes everything written so far to the file (a gzip sync flush point for .gz). */
  flush(): Promise<void> {
    if (this.closing) return this.closing;
    const gz = this.gz;
    if (!gz) return this.drained();
    this.dirty = false;
    return new Promise<void>((resolve) => gz.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve())).then(async () => {
      // The flushed block still has to travel through the pipe into the file.
      while (!this.failure && (gz.readableLength > 0 || this.file.writableLength > 0)) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.failure) throw this.failure;
    });
  }

  /** Finishes the file (gzip trailer included) and closes it. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      if (this.timer) clearInterval(this.timer);
      this.file.once('close', () => (this.failure ? reject(this.failure) : resolve()));
      this.file.once('error', reject);
      this.sink.end();
    });
    return this.closing;
  }

  private writeLine(text: string): boolean {
    if (this.failure) throw new UsageError(`writing recording "${this.path}" failed: ${this.failure.message}`, { cause: this.failure });
    if (this.closing) throw new UsageError(`recording "${this.path}" is already closed`);
    this.count++;
    this.dirty = true;
    return this.sink.write(text + '\n');
  }
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`receive time ${n} is not a finite number`);
  return String(n);
}

export interface ReadRecordingOptions {
  /**
   * Called when the file ends in a truncated gzip stream or a cut-off last line (an
   * interrupted `qtrade record`); reading stops cleanly there.
   */
  onWarning?: (message: string) => void;
}

async function isGzip(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read recording "${path}": ${e.code === 'ENOENT' ? 'no such file' : e.message}`, {
      cause: err,
      hint: 'record one with `qtrade record --out FILE.jsonl.gz` or use fixtures/recordings/',
    });
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === GZIP_MAGIC_0 && buf[1] === GZIP_MAGIC_1;
  } finally {
    await fh.close();
  }
}

/** Raw text lines of a plain or gzip'd file; `truncated` is set when gzip data ends early. */
async function* textLines(path: string, state: { truncated: boolean; endsWithNewline: boolean }): AsyncGenerator<string> {
  const gz = await isGzip(path);
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  const source: AsyncIterable<Buffer> = gz ? file.pipe(createGunzip({ chunkSize: 256 * 1024 })) : file;
  if (gz) file.on('error', () => {}); // surfaced through the gunzip stream's iteration
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of source) {
      const text = rest + decoder.write(chunk);
      let start = 0;
      let nl = text.indexOf('\n', start);
      while (nl !== -1) {
        yield text.slice(start, nl);
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      rest = text.slice(start);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (gz && (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message))) {
      state.truncated = true;
    } else if (gz && e.code === 'Z_DATA_ERROR') {
      throw new ParseError(`recording "${path}" is not valid gzip data: ${e.message}`, { cause: err });
    } else {
      throw err;
    }
  } finally {
    file.destroy();
  }
  rest += decoder.end();
  state.endsWithNewline = rest.length === 0;
  if (rest.length > 0) yield rest;
}

/**
 * Streams a recording line by line in constant memory. Blank lines are skipped; a
 * malformed line throws a ParseError naming its line number, except a cut-off last line
 * of an interrupted recording, which ends the stream with a warning.
 */
export async function* readRecording(path: string, opts: ReadRecordingOptions = {}): AsyncGenerator<RecordingLine> {
  const state = { truncated: false, endsWithNewline: true };
  const lines = textLines(path, state);
  let lineNo = 0;
  let pending: string | undefined;
  // One line of look-ahead: only the file's last line may be forgiven for being cut off.
  for await (const text of lines) {
    if (pending !== undefined) {
      lineNo++;
      const rec = parseLine(pending, lineNo, path);
      if (rec) yield rec;
    }
    pending = text;
  }
  if (pending !== undefined) {
    lineNo++;
    const last = pending;
    let rec: RecordingLine | undefined;
    try {
      rec = parseLine(last, lineNo, path);
    } catch (err) {
      if (!(err instanceof ParseError) || (state.endsWithNewline && !state.truncated)) throw err;
      opts.onWarning?.(`recording "${path}" ends with an incomplete line ${lineNo}; ignored it (interrupted recording?)`);
      return;
    }
    if (rec) yield rec;
  }
  if (state.truncated) opts.onWarning?.(`recording "${path}" ends in a truncated gzip stream after line ${lineNo}; read what was complete`);
}

function parseLine(text: string, line: number, path: string): RecordingLine | undefined {
  if (text.length === 0 || text.trim().length === 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`${path}:${line}: not JSON: ${(err as Error).message}`, {
      cause: err,
      hint: 'each line of a recording must be one JSON object',
    });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, line, 'not a JSON object');
  const o = v as Record<string, unknown>;
  if (o.qtrade === 'recording') {
    if (o.version !== 1) throw bad(path, line, `unsupported recording version ${JSON.stringify(o.version)}`);
    return {
      kind: 'header',
      line,
      header: {
        qtrade: 'recording',
        version: 1,
        source: typeof o.source === 'string' ? o.source : 'unknown',
        symbols: Array.isArray(o.symbols) ? o.symbols.map(String) : [],
        channels: Array.isArray(o.channels) ? o.channels.map(String) : [],
        startedAt: typeof o.startedAt === 'number' ? o.startedAt : 0,
      },
    };
  }
  const r = o.r;
  if (typeof r !== 'number' || !Number.isFinite(r)) throw bad(path, line, '"r" (receive time, ms) missing or not a number');
  if ('f' in o) {
    const f = o.f as Record<string, unknown> | null;
    if (typeof f !== 'object' || f === null || typeof f.stream !== 'string' || !('data' in f)) {
      throw bad(path, line, '"f" is not a combined-stream frame {"stream","data"}');
    }
    return { kind: 'frame', line, r, frame: f as unknown as CombinedFrame };
  }
  if (typeof o.rest === 'string') return { kind: 'rest', line, r, rest: o.rest, body: o.body };
  throw bad(path, line, 'neither a frame ("f") nor a REST reply ("rest")');
}

function bad(path: string, line: number, what: string): ParseError {
  return new ParseError(`${path}:${line}: ${what}`, { hint: 'see fixtures/README.md for the recording format' });
}

/** The header of a recording, if its first line is one. */
export async function readRecordingHeader(path: string): Promise<RecordingHeader | undefined> {
  for await (const line of readRecording(path)) {
    return line.kind === 'header' ? line.header : undefined;
  }
  return undefined;
}
