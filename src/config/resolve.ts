import path from 'node:path';
import { ConfigFile } from './config-file.js';
import type { FeeScheduleOptions } from '../engine/orders/fees.js';
import { SETTINGS, coerceSetting, defaultDataDir, feeOptions, settingSpec } from './settings.js';

export type SettingSource = 'flag' | 'env' | 'file' | 'default' | 'unset';

export interface ResolvedSetting {
  key: string;
  value: string | number | boolean | undefined;
  source: SettingSource;
}

export interface ResolveOptions {
  /** --data-dir */
  dataDir?: string;
  /** Values given as CLI flags, by setting key. */
  flags?: Record<string, string | undefined>;
  env?: NodeJS.ProcessEnv;
}

/**
 * The effective configuration of one invocation: flags > QTRADE_* env > config file > defaults.
 */
export class Settings {
  readonly dataDir: string;
  readonly file: ConfigFile;
  private readonly flags: Record<string, string | undefined>;
  private readonly env: NodeJS.ProcessEnv;

  constructor(opts: ResolveOptions = {}) {
    this.env = opts.env ?? process.env;
    this.flags = opts.flags ?? {};
    this.dataDir = path.resolve(opts.dataDir ?? this.env.QTRADE_DATA_DIR ?? defaultDataDir(this.env));
    this.file = new ConfigFile(this.dataDir);
  }

  resolve(key: string): ResolvedSetting {
    const spec = settingSpec(key);
    const flag = this.flags[key];
    if (flag !== undefined) return { key, value: coerceSetting(spec, flag), source: 'flag' };
    const envValue = spec.env ? this.env[spec.env] : undefined;
    if (envValue !== undefined && envValue !== '') return { key, value: coerceSetting(spec, envValue), source: 'env' };
    const fileValue = this.file.get(key);
    if (fileValue !== undefined) return { key, value: fileValue, source: 'file' };
    if (spec.default !== undefined) return { key, value: spec.default, source: 'default' };
    return { key, value: undefined, source: 'unset' };
  }

  string(key: string): string | undefined {
    const v = this.resolve(key).value;
    return v === undefined ? undefined : String(v);
  }

  number(key: string): number {
    return Number(this.resolve(key).value);
  }

  all(): ResolvedSetting[] {
    return SETTINGS.map((s) => this.resolve(s.key));
  }

  /** sqlite file in the data dir unless `store` says otherwise. */
  storeUrl(): string {
    return this.string('store') ?? `sqlite:${path.join(this.dataDir, 'qtrade.db')}`;
  }

  /** The proxy for WS and REST: config/env `proxy`, else HTTPS_PROXY / https_proxy. */
  proxyUrl(): string | undefined {
    return this.string('proxy') ?? (this.env.HTTPS_PROXY || this.env.https_proxy || undefined);
  }

  /** Paper maker/taker fee rates, default and per symbol. */
  fees(): FeeScheduleOptions {
    return feeOptions((key) => this.string(key));
  }

  noProxy(): string | undefined {
    return this.env.NO_PROXY || this.env.no_proxy || undefined;
  }
}
