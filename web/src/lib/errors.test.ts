import i18n from 'i18next';
import { describe, expect, it } from 'vitest';
import en from '@/locales/en/errors.json';
import de from '@/locales/de/errors.json';
import { ApiError, ERROR_CODES, NetworkError, describeError, fieldErrors, isRetryable } from './errors';

const t = i18n.getFixedT('en');
const tDe = i18n.getFixedT('de');

function reply(code: string, details: Record<string, unknown> = {}, status = 400) {
  return ApiError.fromBody(status, { error: { code, message: 'raw API text', details }, request_id: 'req-1' });
}

describe('describeError', () => {
  it.each(ERROR_CODES)('gives %s its own sentence in English and German', (code) => {
    const english = describeError(reply(code), t);
    const german = describeError(reply(code), tDe);
    expect(english).toBe((en.codes as Record<string, string>)[code]);
    expect(german).toBe((de.codes as Record<string, string>)[code]);
    expect(english).not.toContain(code);
    expect(german).not.toBe(english);
  });

  it('covers every code the API declares in mamba/domain/errors.py', () => {
    expect(Object.keys(en.codes).sort()).toEqual([...ERROR_CODES].sort());
    expect(Object.keys(de.codes).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('prefers the sentence of a known reason over the generic code', () => {
    const error = reply('VALIDATION_ERROR', { field: 'token', reason: 'invalid_token' });
    expect(describeError(error, t)).toBe(en.reasons.invalid_token);
  });

  it('names an unknown code in a sentence rather than showing it bare', () => {
    expect(describeError(reply('SOMETHING_NEW'), t)).toBe('The request failed (SOMETHING_NEW). Please try again.');
  });

  it('says the panel cannot be reached on a network failure', () => {
    expect(describeError(new NetworkError(new TypeError('Failed to fetch')), t)).toBe(en.network);
  });

  it('treats a body that is not in the error shape as an internal error when the status is 5xx', () => {
    const error = ApiError.fromBody(502, '<html>Bad gateway</html>');
    expect(error.code).toBe('INTERNAL');
    expect(describeError(error, t)).toBe(en.codes.INTERNAL);
  });
});

describe('fieldErrors', () => {
  it('places each pydantic field problem under its input name, translated by type', () => {
    const error = reply('VALIDATION_ERROR', {
      fields: [
        { field: 'password', message: 'String should have at least 12 characters', type: 'string_too_short' },
        { field: 'body.email', message: 'Field required', type: 'missing' },
        { field: 'limits.memory_mb', message: 'some new rule', type: 'brand_new_type' },
      ],
    });
    expect(fieldErrors(error, t)).toEqual({
      password: en.fields.string_too_short,
      email: en.fields.missing,
      'limits.memory_mb': 'some new rule',
    });
  });

  it('puts a conflict naming one field next to that field', () => {
    const error = reply('CONFLICT', { field: 'email' }, 409);
    expect(fieldErrors(error, t)).toEqual({ email: en.codes.CONFLICT });
  });

  it('has nothing to place for other failures', () => {
    expect(fieldErrors(new NetworkError(), t)).toEqual({});
    expect(fieldErrors(reply('FORBIDDEN', {}, 403), t)).toEqual({});
  });
});

describe('isRetryable', () => {
  it('offers a retry for network failures, 5xx and transient codes but not for refusals', () => {
    expect(isRetryable(new NetworkError())).toBe(true);
    expect(isRetryable(reply('INTERNAL', {}, 500))).toBe(true);
    expect(isRetryable(reply('RATE_LIMITED', {}, 429))).toBe(true);
    expect(isRetryable(reply('FORBIDDEN', {}, 403))).toBe(false);
    expect(isRetryable(reply('VALIDATION_ERROR'))).toBe(false);
  });
});
