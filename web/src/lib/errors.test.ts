import i18n from 'i18next';
import { describe, expect, it } from 'vitest';
import en from '@/locales/en/errors.json';
import de from '@/locales/de/errors.json';
import apiCodes from '@/api/error-codes.json';
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

  it('has a sentence for exactly the codes the API answers with (generated: web/src/api/error-codes.json)', () => {
    // scripts/gen-openapi-types writes the list from the API's DomainError classes, and its
    // --check (make lint) fails when the list is stale, so a new code without a sentence fails here.
    expect(apiCodes).toContain('SESSION_REQUIRED');
    expect(Object.keys(en.codes).sort()).toEqual([...apiCodes].sort());
    expect(Object.keys(de.codes).sort()).toEqual([...apiCodes].sort());
    expect(ERROR_CODES).toEqual(apiCodes);
  });

  // The reasons the files denylist (services/server_files.py) and the pull check
  // (domain/pull_targets.py) put in details.reason.
  const REASONS: Record<string, string[]> = {
    FILE_DENIED: ['holds_protected_files', 'would_create_protected_file', 'symlink', 'too_many_folders_to_check'],
    PULL_URL_REFUSED: [
      'invalid', 'scheme', 'credentials', 'encoded_address', 'unresolvable', 'loopback', 'private', 'link_local',
      'cloud_metadata', 'unspecified', 'multicast', 'shared', 'reserved', 'not_public',
    ],
  };
  it.each(Object.entries(REASONS).flatMap(([code, reasons]) => reasons.map((reason) => [code, reason])))(
    'gives %s with reason %s its own sentence in both languages',
    (code, reason) => {
      const english = describeError(reply(code, { reason }), t);
      const german = describeError(reply(code, { reason }), tDe);
      expect(english).toBe((en.reasons as unknown as Record<string, Record<string, string>>)[code][reason]);
      expect(german).toBe((de.reasons as unknown as Record<string, Record<string, string>>)[code][reason]);
      expect(english).not.toBe(describeError(reply(code), t));
    },
  );

  it('reads a reason under its own code only: another code with the same reason gets its generic sentence', () => {
    expect(describeError(reply('VALIDATION_ERROR', { reason: 'private' }), t)).toBe(en.codes.VALIDATION_ERROR);
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

  it('words a reason for the input it belongs to: a wrong current password is not "email or password"', () => {
    const error = reply('VALIDATION_ERROR', {
      fields: [{ field: 'current_password', message: 'The current password is wrong.' }],
      field: 'current_password',
      reason: 'invalid_credentials',
    });
    expect(fieldErrors(error, t)).toEqual({ current_password: en.fieldReasons.current_password.invalid_credentials });
    expect(fieldErrors(error, tDe)).toEqual({ current_password: de.fieldReasons.current_password.invalid_credentials });
    const code = reply('VALIDATION_ERROR', { fields: [{ field: 'totp_code', message: 'x' }], field: 'totp_code', reason: 'totp_invalid' });
    expect(fieldErrors(code, t)).toEqual({ totp_code: en.reasons.totp_invalid });
  });

  it('puts a pull refusal next to the url input, in the words of its reason', () => {
    expect(fieldErrors(reply('PULL_URL_REFUSED', { field: 'url', reason: 'loopback' }), t)).toEqual({
      url: en.reasons.PULL_URL_REFUSED.loopback,
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
