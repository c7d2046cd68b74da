import { describe, expect, it } from 'vitest';
import { formatBytes, formatMegabytes } from './format';

describe('formatBytes', () => {
  it('says bytes in the plural for a size under a kilobyte, and short units above', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MB');
    expect(formatMegabytes(1536)).toBe('1.5 GB');
  });
});
