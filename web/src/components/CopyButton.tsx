import { useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Copies a value to the clipboard and says so in a live region (API keys, 2FA key and recovery codes). */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const { t } = useTranslation('clipboard');
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <>
      <button
        type="button"
        className="button"
        data-variant="secondary"
        onClick={() =>
          navigator.clipboard
            .writeText(value)
            .then(() => setState('copied'))
            .catch(() => setState('failed'))
        }
      >
        {label}
      </button>
      <span role="status" className="muted">
        {state === 'copied' ? t('copied') : state === 'failed' ? t('failed') : ''}
      </span>
    </>
  );
}
