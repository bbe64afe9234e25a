#!/usr/bin/env node
// Runs every bench/*.bench.mjs in sequence, each in its own process (a fresh heap and JIT),
// and prints their tables. Build first: `npm run bench` does both.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (!existsSync(path.join(here, '..', 'dist', 'src'))) {
  console.error('dist/ is missing: run `npm run build` first (or `npm run bench`)');
  process.exit(1);
}
const only = process.argv.slice(2);
const all = readdirSync(here).filter((f) => f.endsWith('.bench.mjs'));
// An argument that names a bench exactly ("orders") runs that one only, not every name containing it
// (daemon-orders); any other argument selects by substring.
const picks = (f, o) => (all.includes(`${o}.bench.mjs`) ? f === `${o}.bench.mjs` : f.includes(o));
const files = all.filter((f) => only.length === 0 || only.some((o) => picks(f, o))).sort();
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}\n`);
  const r = spawnSync(process.execPath, [path.join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(${f} exited with ${r.status ?? r.signal})`);
  }
}
console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}`);
process.exit(failed ? 1 : 0);
