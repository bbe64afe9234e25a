import Conf from 'conf';
import { UsageError } from '../engine/errors.js';
import { SETTINGS, coerceSetting, settingSpec } from './settings.js';

type Values = Record<string, string | number | boolean>;

/** The config file (config.json in the data dir), validated by a JSON schema built from SETTINGS. */
export class ConfigFile {
  private readonly conf: Conf<Values>;

  constructor(dataDir: string) {
    const properties: Record<string, { type: string }> = {};
    for (const s of SETTINGS) properties[s.key] = { type: s.type };
    try {
      this.conf = new Conf<Values>({
        projectName: 'qtrade',
        cwd: dataDir,
        configName: 'config',
        accessPropertiesByDotNotation: false,
        schema: properties as never,
        clearInvalidConfig: false,
        configFileMode: 0o600,
      });
    } catch (err) {
      throw new UsageError(`config file in ${dataDir} is invalid: ${(err as Error).message}`, {
        hint: 'fix or delete config.json there, or run `qtrade config set KEY VALUE`',
        cause: err,
      });
    }
  }

  get path(): string {
    return this.conf.path;
  }

  get(key: string): string | number | boolean | undefined {
    return this.conf.get(key);
  }

  set(key: string, value: string): string | number | boolean {
    const v = coerceSetting(settingSpec(key), value);
    this.conf.set(key, v);
    return v;
  }

  unset(key: string): void {
    settingSpec(key);
    this.conf.delete(key);
  }

  all(): Values {
    return { ...this.conf.store };
  }
}
