import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { TextField } from '@/components/Field';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { CopyButton } from '@/components/CopyButton';
import { describeError } from '@/lib/errors';
import { normaliseCode, useConfirm, useDisable, useEnrol, useTwoFactor } from '../api/twoFactor';
import { QrCode } from './QrCode';
import '../two-factor.css';

/** Two-factor authentication: enrol with a QR code, confirm, keep the recovery codes, disable. */
export function TwoFactorSection() {
  const { t } = useTranslation('twoFactor');
  const status = useTwoFactor();
  const [codes, setCodes] = useState<string[] | null>(null);

  return (
    <section className="card" aria-label={t('title')}>
      {codes ? (
        <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />
      ) : status.isPending ? (
        <Loading label={t('loading')} />
      ) : status.isError ? (
        <ErrorAlert error={status.error} onRetry={() => void status.refetch()} />
      ) : status.data.enabled ? (
        <Disable left={status.data.recovery_codes_left} />
      ) : (
        <Enrol onConfirmed={setCodes} />
      )}
    </section>
  );
}

function Enrol({ onConfirmed }: { onConfirmed: (codes: string[]) => void }) {
  const { t } = useTranslation('twoFactor');
  const enrol = useEnrol();
  const confirm = useConfirm();
  const [code, setCode] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    confirm.mutate(normaliseCode(code), { onSuccess: (reply) => onConfirmed(reply.recovery_codes) });
  };
  if (!enrol.data) {
    return (
      <>
        <p>{t('off')}</p>
        <p className="muted">{t('why')}</p>
        {enrol.isError && <ErrorAlert error={enrol.error} />}
        <button type="button" className="button" disabled={enrol.isPending} onClick={() => enrol.mutate()}>
          {t('enrol.start')}
        </button>
      </>
    );
  }
  return (
    <>
      <ol>
        <li>{t('enrol.step1')}</li>
        <li>{t('enrol.step2')}</li>
        <li>{t('enrol.step3')}</li>
      </ol>
      <QrCode text={enrol.data.otpauth_uri} label={t('enrol.qr')} />
      <p>
        {t('enrol.secret')} <code data-testid="totp-secret">{enrol.data.secret}</code>{' '}
        <CopyButton value={enrol.data.secret} label={t('enrol.copySecret')} />
      </p>
      <form onSubmit={submit} noValidate>
        <TextField
          label={t('enrol.code')}
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={12}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={confirm.isError ? describeError(confirm.error, t) : undefined}
        />
        <button type="submit" className="button" disabled={confirm.isPending || normaliseCode(code).length < 6}>
          {t('enrol.confirm')}
        </button>
      </form>
    </>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const { t } = useTranslation('twoFactor');
  return (
    <>
      <Notice tone="success">{t('recovery.on')}</Notice>
      <h3>{t('recovery.title')}</h3>
      <p>{t('recovery.body')}</p>
      <ul className="recovery-codes" aria-label={t('recovery.title')}>
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <div className="button-row">
        <CopyButton value={codes.join('\n')} label={t('recovery.copy')} />
        <button type="button" className="button" onClick={onDone}>
          {t('recovery.done')}
        </button>
      </div>
    </>
  );
}

function Disable({ left }: { left: number }) {
  const { t } = useTranslation('twoFactor');
  const disable = useDisable();
  const [mode, setMode] = useState<'code' | 'recovery'>('code');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = mode === 'code' ? { code: normaliseCode(code) } : { recovery_code: code.trim() };
    disable.mutate(password ? { ...body, password } : body, {
      onSuccess: () => {
        setCode('');
        setPassword('');
      },
    });
  };
  return (
    <>
      <p>{t('on')}</p>
      <p>{t('left', { count: left })}</p>
      {left <= 2 && <Notice tone="warning">{t('fewLeft')}</Notice>}
      <h3>{t('disable.title')}</h3>
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>{t('disable.with')}</legend>
          <label>
            <input type="radio" name="twofa-mode" checked={mode === 'code'} onChange={() => setMode('code')} /> {t('disable.modeCode')}
          </label>{' '}
          <label>
            <input type="radio" name="twofa-mode" checked={mode === 'recovery'} onChange={() => setMode('recovery')} />{' '}
            {t('disable.modeRecovery')}
          </label>
        </fieldset>
        <TextField
          label={mode === 'code' ? t('disable.code') : t('disable.recovery')}
          autoComplete="one-time-code"
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
        <TextField
          label={t('disable.password')}
          type="password"
          autoComplete="current-password"
          hint={t('disable.passwordHint')}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {disable.isError && <ErrorAlert error={disable.error} />}
        <button type="submit" className="button" data-variant="danger" disabled={disable.isPending || !code.trim()}>
          {t('disable.submit')}
        </button>
      </form>
    </>
  );
}
