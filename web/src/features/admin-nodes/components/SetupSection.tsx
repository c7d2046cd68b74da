import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CopyButton } from '@/components/CopyButton';
import { ErrorAlert } from '@/components/States';
import { downloadText } from '@/lib/csv';
import { fetchConfiguration, setupCommand, type Node } from '../api/nodes';

/**
 * Put Wings on the machine: download its config.yml, or copy one command that writes it and
 * starts Wings. Both hold the node's token, so they are fetched on a click and the command is
 * shown only until the page is left; the text says to treat them as a password.
 */
export function SetupSection({ node }: { node: Node }) {
  const { t } = useTranslation('adminNodes');
  const [command, setCommand] = useState<string | null>(null);
  const [busy, setBusy] = useState<'download' | 'command' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [downloaded, setDownloaded] = useState(false);

  const run = async (what: 'download' | 'command') => {
    setBusy(what);
    setError(null);
    setDownloaded(false);
    try {
      const text = await fetchConfiguration(node.id);
      if (what === 'download') {
        downloadText('config.yml', text, 'application/x-yaml');
        setDownloaded(true);
      } else {
        setCommand(setupCommand(text));
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="setup-heading" className="card">
      <h2 id="setup-heading">{t('setup.title')}</h2>
      <p>{t('setup.intro')}</p>
      <p className="muted">{t('setup.secret')}</p>
      <div className="button-row">
        <button type="button" className="button" disabled={busy !== null} onClick={() => void run('download')}>
          {busy === 'download' ? t('setup.working') : t('setup.download')}
        </button>
        <button type="button" className="button" data-variant="secondary" disabled={busy !== null} onClick={() => void run('command')}>
          {busy === 'command' ? t('setup.working') : t('setup.showCommand')}
        </button>
        <span role="status" className="muted">
          {downloaded ? t('setup.downloaded') : ''}
        </span>
      </div>
      {error !== null && <ErrorAlert error={error} />}
      {command && (
        <div>
          <p id="setup-command-label">{t('setup.commandLabel')}</p>
          <pre className="setup-command" aria-labelledby="setup-command-label" tabIndex={0}>
            <code>{command}</code>
          </pre>
          <div className="button-row">
            <CopyButton value={command} label={t('setup.copy')} />
            <button type="button" className="button" data-variant="secondary" onClick={() => setCommand(null)}>
              {t('setup.hide')}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
