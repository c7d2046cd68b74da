import { describe, expect, it } from 'vitest';
import { eggFilename, parseEgg } from './blueprints';

describe('blueprint helpers', () => {
  it('takes a JSON object as an egg and refuses anything else', () => {
    expect(parseEgg('{"meta": {"version": "PTDL_v2"}}')).toEqual({ meta: { version: 'PTDL_v2' } });
    expect(parseEgg('[1, 2]')).toBeNull();
    expect(parseEgg('null')).toBeNull();
    expect(parseEgg('{"name": ')).toBeNull();
  });

  it('names an exported egg after the blueprint with safe characters only', () => {
    expect(eggFilename('Minecraft: Paper (1.21)')).toBe('egg-minecraft-paper-1-21.json');
    expect(eggFilename('Ünïcode ✓')).toBe('egg-unicode.json');
    expect(eggFilename('***')).toBe('egg-blueprint.json');
  });
});
