/**
 * The one error path: every failure the app shows goes through `describeError`, which turns an
 * API error `code` (ErrorOut in /openapi.json) or a network failure into a sentence in the
 * user's language, and `fieldErrors`, which places `details.fields` next to their inputs.
 */
import i18next, { type TFunction } from 'i18next';
import errorCodes from '@/api/error-codes.json';
import type { components } from '@/api/schema';

type ErrorOut = components['schemas']['ErrorOut'];

/**
 * Every `code` the API answers with: generated from the API's DomainError classes by
 * scripts/gen-openapi-types (web/scripts/dump_error_codes.py); each has a sentence in errors.json,
 * which errors.test.ts checks in every language.
 */
export const ERROR_CODES: readonly string[] = errorCodes;

export interface FieldProblem {
  field: string;
  message: string;
  type?: string;
}

/** A reply in the API's error shape. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}, requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }

  /** The error of a reply body, or a generic one when the body is not in the API's shape. */
  static fromBody(status: number, body: unknown): ApiError {
    const shaped = body as Partial<ErrorOut> | null;
    const error = shaped?.error;
    if (error && typeof error.code === 'string') {
      return new ApiError(status, error.code, error.message ?? '', (error.details ?? {}) as Record<string, unknown>, shaped?.request_id);
    }
    return new ApiError(status, status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', `HTTP ${status}`);
  }
}

/** The request never got an answer (offline, DNS, the API is down): the UI offers a retry. */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ApiError) {
    return error.status >= 500 || ['RATE_LIMITED', 'TRANSIENT', 'SERVICE_UNAVAILABLE', 'NODE_UNAVAILABLE', 'TENANT_BUSY'].includes(error.code);
  }
  return false;
}

/** One sentence for any failure, in the user's language; never a raw code alone. */
export function describeError(error: unknown, t: TFunction): string {
  if (error instanceof NetworkError) return t('errors:network');
  if (error instanceof ApiError) {
    const key = reasonKey(error);
    if (key) return t(key);
    if (ERROR_CODES.includes(error.code)) return t(`errors:codes.${error.code}`);
    return t('errors:unknown', { code: error.code });
  }
  return t('errors:unexpected');
}

/** The field problems of a VALIDATION_ERROR (or a conflict naming one field), keyed by field. */
export function fieldErrors(error: unknown, t: TFunction): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const found: Record<string, string> = {};
  const fields = error.details.fields;
  if (Array.isArray(fields)) {
    for (const item of fields as FieldProblem[]) {
      if (!item || typeof item.field !== 'string') continue;
      // Pydantic locations are dotted ("body.email" or "environment.SERVER_JARFILE"); the last part is the input.
      const name = item.field.replace(/^body\./, '');
      found[name] = item.field === error.details.field ? reasonSentence(error, name, t) ?? fieldSentence(item, t) : fieldSentence(item, t);
    }
  } else if (typeof error.details.field === 'string') {
    found[error.details.field] = reasonSentence(error, error.details.field, t) ?? describeError(error, t);
  }
  return found;
}

/** The sentence key of `details.reason`: the code's own reasons first (PULL_URL_REFUSED's
 * "private" means nothing to another code), then the shared ones; undefined when none fits. */
function reasonKey(error: ApiError): string | undefined {
  const reason = error.details.reason;
  if (typeof reason !== 'string') return undefined;
  return [`errors:reasons.${error.code}.${reason}`, `errors:reasons.${reason}`].find((key) => i18next.exists(key));
}

/** The reason's sentence next to one input: a field's own wording first ("the current password
 * is wrong" rather than sign-in's "email or password"), then the reason's. */
function reasonSentence(error: ApiError, field: string, t: TFunction): string | undefined {
  const reason = error.details.reason;
  if (typeof reason === 'string' && i18next.exists(`errors:fieldReasons.${field}.${reason}`)) {
    return t(`errors:fieldReasons.${field}.${reason}`);
  }
  const key = reasonKey(error);
  return key ? t(key) : undefined;
}

function fieldSentence(item: FieldProblem, t: TFunction): string {
  if (item.type) {
    // Probed with exists(): a plain t() would report the key as a missing translation.
    if (i18next.exists(`errors:fields.${item.type}`)) return t(`errors:fields.${item.type}`);
  }
  // The API's own text (English) beats saying nothing about what is wrong.
  return item.message || t('errors:fields.invalid');
}
