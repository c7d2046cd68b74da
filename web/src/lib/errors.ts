/**
 * The one error path: every failure the app shows goes through `describeError`, which turns an
 * API error `code` (ErrorOut in /openapi.json) or a network failure into a sentence in the
 * user's language, and `fieldErrors`, which places `details.fields` next to their inputs.
 */
import i18next, { type TFunction } from 'i18next';
import type { components } from '@/api/schema';

type ErrorOut = components['schemas']['ErrorOut'];

/** Every `code` the API answers with (mamba/domain/errors.py); each has a sentence in errors.json. */
export const ERROR_CODES = [
  'ALLOCATION_TAKEN',
  'BACKUP_FAILED',
  'BACKUP_TIMEOUT',
  'BAD_REQUEST',
  'BILLING_DISABLED',
  'CAPTCHA_FAILED',
  'CONFLICT',
  'EMAIL_NOT_VERIFIED',
  'FILE_DENIED',
  'FORBIDDEN',
  'INSTALL_FAILED',
  'INSTALL_TIMEOUT',
  'INTERNAL',
  'INVALID_SIGNATURE',
  'METHOD_NOT_ALLOWED',
  'MIGRATION_ERROR',
  'NODE_UNAVAILABLE',
  'NOT_FOUND',
  'NO_CAPACITY',
  'PAYLOAD_TOO_LARGE',
  'PAYMENT_REQUIRED',
  'QUOTA_EXCEEDED',
  'RATE_LIMITED',
  'SEED_REFUSED',
  'SERVICE_UNAVAILABLE',
  'START_TIMEOUT',
  'TENANT_BUSY',
  'TENANT_SUSPENDED',
  'TRANSIENT',
  'TWO_FACTOR_REQUIRED',
  'UNAUTHORIZED',
  'UNSUPPORTED_MEDIA_TYPE',
  'VALIDATION_ERROR',
  'WINGS_NOT_FOUND',
  'WINGS_REJECTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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
    const reason = typeof error.details.reason === 'string' ? error.details.reason : undefined;
    if (reason) {
      if (i18next.exists(`errors:reasons.${reason}`)) return t(`errors:reasons.${reason}`);
    }
    if ((ERROR_CODES as readonly string[]).includes(error.code)) return t(`errors:codes.${error.code}`);
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
      found[name] = fieldSentence(item, t);
    }
  } else if (typeof error.details.field === 'string') {
    found[error.details.field] = describeError(error, t);
  }
  return found;
}

function fieldSentence(item: FieldProblem, t: TFunction): string {
  if (item.type) {
    // Probed with exists(): a plain t() would report the key as a missing translation.
    if (i18next.exists(`errors:fields.${item.type}`)) return t(`errors:fields.${item.type}`);
  }
  // The API's own text (English) beats saying nothing about what is wrong.
  return item.message || t('errors:fields.invalid');
}
