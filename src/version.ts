import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function findVersion(): string {
  for (const p of ['../package.json', '../../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      // try the next layout (source via tsx vs compiled dist/)
    }
  }
  return '0.0.0';
}

export const VERSION = findVersion();
