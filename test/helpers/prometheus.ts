/**
 * A strict reader of Prometheus text exposition format 0.0.4 for tests: every sample line is
 * `name{label="value",...} value [timestamp]`, every family declares HELP and TYPE once and before
 * its samples, label values are unescaped. Anything else throws naming the line.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const help = new Map<string, string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a line feed');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name) || NAME.exec(name)![0] !== name) throw new Error(`bad metric name, ${where}`);
      if (kind === 'HELP') {
        if (help.has(name)) throw new Error(`second HELP for ${name}, ${where}`);
        help.set(name, unescapeHelp(rest, where));
      } else {
        if (!TYPES.has(rest)) throw new Error(`bad TYPE, ${where}`);
        if (families.has(name)) throw new Error(`second TYPE (or TYPE after samples) for ${name}, ${where}`);
        families.set(name, { name, type: rest as PromFamily['type'], help: '', samples: [] });
      }
      return;
    }
    const sample = parseSample(line, where);
    const fam = familyOf(families, sample.name);
    if (!fam) throw new Error(`sample of a family without TYPE, ${where}`);
    fam.samples.push(sample);
  });
  for (const fam of families.values()) {
    const h = help.get(fam.name);
    if (h === undefined) throw new Error(`family ${fam.name} has no HELP`);
    fam.help = h;
  }
  for (const name of help.keys()) if (!families.has(name)) throw new Error(`HELP for ${name} without TYPE`);
  return families;
}

function familyOf(families: Map<string, PromFamily>, sampleName: string): PromFamily | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || f.type === 'summary') && (suffix !== '_bucket' || f.type === 'histogram')) return f;
  }
  return undefined;
}

function parseSample(line: string, where: string): PromSample {
  const nm = NAME.exec(line);
  if (!nm) throw new Error(`bad sample name, ${where}`);
  const name = nm[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    while (line[pos] !== '}') {
      const lm = LABEL.exec(line.slice(pos));
      if (!lm) throw new Error(`bad label name at ${pos}, ${where}`);
      const key = lm[0];
      pos += key.length;
      if (line.slice(pos, pos + 2) !== '="') throw new Error(`expected =" at ${pos}, ${where}`);
      pos += 2;
      let value = '';
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new Error(`unterminated label value, ${where}`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[pos + 1];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new Error(`bad escape \\${e} in label value, ${where}`);
          pos += 2;
        } else {
          value += c;
          pos++;
        }
      }
      pos++;
      if (key in labels) throw new Error(`label ${key} twice, ${where}`);
      labels[key] = value;
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') throw new Error(`expected , or } at ${pos}, ${where}`);
    }
    pos++;
  }
  if (line[pos] !== ' ') throw new Error(`expected a space before the value, ${where}`);
  const parts = line.slice(pos + 1).split(' ');
  if (parts.length < 1 || parts.length > 2) throw new Error(`expected "value [timestamp]", ${where}`);
  const value = parseValue(parts[0]!, where);
  if (parts.length === 2 && !/^-?\d+$/.test(parts[1]!)) throw new Error(`bad timestamp, ${where}`);
  return { name, labels, value };
}

function parseValue(s: string, where: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value ${s}, ${where}`);
  return Number(s);
}

function unescapeHelp(s: string, where: string): string {
  return s.replace(/\\(.)/g, (_m, e: string) => {
    if (e === '\\') return '\\';
    if (e === 'n') return '\n';
    throw new Error(`bad escape \\${e} in HELP, ${where}`);
  });
}

/** The value of the one sample of `name` whose labels include `labels`; throws if none or several. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const fam = families.get(name);
  if (!fam) throw new Error(`no family ${name}`);
  const hits = fam.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]!.value;
}

/** A sample's value, or 0 when the family has no sample with these labels (a counter not yet bumped). */
export function counterValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const fam = families.get(name);
  if (!fam) throw new Error(`no family ${name}`);
  const hits = fam.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.reduce((a, s) => a + s.value, 0);
}
