import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { defineStrategy } from './api.js';
import { smaCross } from './builtins/index.js';
import { parseParamAssignments, resolveParams } from './params.js';

const noop = (): void => {};

describe('defineStrategy', () => {
  it('checks the name, hooks and schema at definition time', () => {
    expect(() => defineStrategy({ name: 'Bad Name', params: {}, onCandle: noop })).toThrow(/not allowed/);
    expect(() => defineStrategy({ name: 'x', params: {}, onCandle: 5 as never })).toThrow(/onCandle must be a function/);
    expect(() => defineStrategy({ name: 'x', params: { n: { type: 'int', default: 5, min: 10, max: 20 } }, onCandle: noop })).toThrow(
      /param "n" must be an integer from 10 to 20, its default is 5/,
    );
    expect(() => defineStrategy({ name: 'x', params: { n: { type: 'number', default: 1, min: 3, max: 2 } }, onCandle: noop })).toThrow(/min 3 is above max 2/);
    expect(() => defineStrategy({ name: 'x', params: { m: { type: 'enum', default: 'c', values: ['a', 'b'] } }, onCandle: noop })).toThrow(/not one of a, b/);
    const s = defineStrategy({ name: 'ok-1', params: { n: { type: 'int', default: 5, min: 1 } }, onCandle: noop });
    expect(Object.isFrozen(s)).toBe(true);
  });
});

describe('resolveParams', () => {
  const schema = smaCross.params;
  it('fills defaults, converts CLI strings and checks ranges with the param named', () => {
    expect(resolveParams('sma-cross', schema, {})).toEqual({ fast: 10, slow: 30, size: 0.95 });
    expect(resolveParams('sma-cross', schema, parseParamAssignments(['fast=5', 'size=0.5']))).toEqual({ fast: 5, slow: 30, size: 0.5 });
    const err = (() => {
      try {
        resolveParams('sma-cross', schema, { fast: '1' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('strategy sma-cross: param "fast" must be an integer from 2 to 500, got 1');
    expect(() => resolveParams('sma-cross', schema, { fast: '7.5' })).toThrow(/"fast" must be an integer/);
    expect(() => resolveParams('sma-cross', schema, { fast: 'abc' })).toThrow(/"fast"/);
    expect(() => resolveParams('sma-cross', schema, { fsat: 3 })).toThrow(/has no param "fsat"/);
    try {
      resolveParams('sma-cross', schema, { fsat: 3 });
    } catch (e) {
      expect((e as UsageError).hint).toMatch(/did you mean fast/);
    }
  });

  it('checks enums and booleans', () => {
    const s = { mode: { type: 'enum', default: 'a', values: ['a', 'b'] }, on: { type: 'boolean', default: false } } as const;
    expect(resolveParams('x', s, { mode: 'b', on: 'true' })).toEqual({ mode: 'b', on: true });
    expect(() => resolveParams('x', s, { mode: 'c' })).toThrow(/"mode" must be one of a, b/);
    expect(() => resolveParams('x', s, { on: 'yes' })).toThrow(/"on" must be true or false/);
  });

  it('refuses malformed --param assignments', () => {
    expect(() => parseParamAssignments(['fast'])).toThrow(/NAME=VALUE/);
  });
});
