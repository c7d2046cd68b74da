import { describe, expect, it } from 'vitest';
import { checkValue, choices, compilePattern, type Rule } from './rules';

const r = (name: string, ...args: string[]): Rule => ({ name, args }) as Rule;

describe('checkValue (mirrors mamba/domain/rules.py check_value)', () => {
  it('asks for a required value and lets an optional empty one through', () => {
    expect(checkValue('', [r('required'), r('string')])).toEqual([{ key: 'required' }]);
    expect(checkValue('  ', [r('nullable'), r('integer')])).toEqual([]);
  });

  it('measures length for strings and the number for numeric rules', () => {
    expect(checkValue('abcdef', [r('string'), r('max', '5')])).toEqual([{ key: 'max_length', params: { a: '5', b: '' } }]);
    expect(checkValue('7', [r('integer'), r('between', '1', '5')])).toEqual([
      { key: 'between_number', params: { a: '1', b: '5' } },
    ]);
    expect(checkValue('3', [r('integer'), r('between', '1', '5')])).toEqual([]);
    expect(checkValue('x', [r('integer'), r('min', '1')])).toEqual([{ key: 'integer' }, { key: 'numeric' }]);
  });

  it('stops at the first failure with bail', () => {
    expect(checkValue('x', [r('bail'), r('integer'), r('min', '1')])).toEqual([{ key: 'integer' }]);
  });

  it('checks in, regex with PHP delimiters, and booleans as Wings reads them', () => {
    expect(checkValue('paper', [r('in', 'vanilla', 'paper')])).toEqual([]);
    expect(checkValue('forge', [r('in', 'vanilla', 'paper')])).toEqual([{ key: 'in', params: { list: 'vanilla, paper' } }]);
    expect(checkValue('server.jar', [r('regex', '/^([\\w\\d._-]+)(\\.jar)$/')])).toEqual([]);
    expect(checkValue('server.zip', [r('regex', '/^([\\w\\d._-]+)(\\.jar)$/')])).toEqual([{ key: 'format' }]);
    expect(checkValue('yes', [r('boolean')])).toEqual([{ key: 'boolean' }]);
    expect(checkValue('1', [r('boolean')])).toEqual([]);
  });

  it('compiles PHP patterns with other delimiters and flags, and refuses undelimited ones', () => {
    expect(compilePattern('#^abc$#i')?.test('ABC')).toBe(true);
    expect(compilePattern('^abc$')).toBeNull();
    expect(choices([r('required'), r('in', 'a', 'b')])).toEqual(['a', 'b']);
  });
});
