import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { API_KEY, API_SECRET, startLiveVenue } from './helpers/live-venue.js';
import { json, usePaperCli, type Row } from './helpers/paper-cli.js';

/** Binance keys through `qtrade config set`, and live (testnet) orders through the signed fake Binance. */

const cli = usePaperCli();

describe('live venues and credentials', () => {
  it('`config set binance.apiSecret` never prints the secret and writes a 0600 file', async () => {
    const k = await cli.qt(['config', 'set', 'binance.apiKey', API_KEY]);
    expect(k.code).toBe(0);
    expect(k.stdout).toBe('binance.apiKey = ****\n');
    const s = await cli.qt(['config', 'set', 'binance.apiSecret'], { input: `${API_SECRET}\n` });
    expect(s.code).toBe(0);
    expect(s.stdout).toBe('binance.apiSecret = ****\n');
    for (const out of [k.stdout, k.stderr, s.stdout, s.stderr]) {
      expect(out).not.toContain(API_SECRET);
      expect(out).not.toContain(API_KEY);
    }
    const file = path.join(cli.dir, 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ testnet: { apiKey: API_KEY, apiSecret: API_SECRET } });
    const config = path.join(cli.dir, 'config.json');
    expect(existsSync(config) && readFileSync(config, 'utf8').includes(API_SECRET)).toBe(false);
    const get = await cli.qt(['config', 'get', 'binance.apiSecret']);
    expect(get.stdout).toBe('****\n');
    const other = tempDir();
    try {
      const noKey = await runCli(['--data-dir', other.dir, 'config', 'set', 'binance.apiSecret', API_SECRET]);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain('no testnet API key to pair the secret with');
      expect(noKey.stderr).not.toContain(API_SECRET);
    } finally {
      other.cleanup();
    }
  });

  it('places a testnet order through the signed fake Binance, same output shape', async () => {
    const venue = await startLiveVenue({ balances: { USDT: '10000' }, marketPrices: { BTCUSDT: '60000.00' } });
    try {
      await cli.qt(['config', 'set', 'binance.apiKey', API_KEY]);
      await cli.qt(['config', 'set', 'binance.apiSecret', API_SECRET]);
      const live = { env: { QTRADE_LIVE_REST_URL: venue.fake.restUrl } };
      const r = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--venue', 'testnet', '--client-id', 'live-1', '--json'], live);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(json(r.stdout)).toMatchObject({ symbol: 'BTCUSDT', clientOrderId: 'live-1', type: 'MARKET', status: 'FILLED', executedQty: '0.01000000', cummulativeQuoteQty: '600.00000000' });
      expect(venue.account.placed).toBe(1);
      const bal = json<{ balances: Row[] }>((await cli.qt(['balance', '--venue', 'testnet', '--json'], live)).stdout);
      expect(bal.balances).toContainEqual({ asset: 'USDT', free: '9400.00000000', locked: '0.00000000' });
      const rejected = await cli.qt(['order', 'buy', 'BTCUSDT', '0.000001', '--limit', '59000', '--venue', 'testnet', '--json'], live);
      expect(rejected.code).toBe(3);
      expect(json(rejected.stdout)).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE' });
      const mainnet = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--venue', 'mainnet'], live);
      expect(mainnet.code).toBe(2);
      expect(mainnet.stderr).toContain('mainnet is not confirmed');
    } finally {
      await venue.close();
    }
  });
});
