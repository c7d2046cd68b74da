import { useTranslation } from 'react-i18next';
import { denied, type Can } from '@/features/roles/api/can';
import { BUSY, type Backup } from '../api/backups';

/** A backup's delete button: off while it is locked (with the reason as its title), busy, or not the caller's to delete. */
export function DeleteBackupButton({ backup, can, onClick }: { backup: Backup; can: Can; onClick: () => void }) {
  const { t } = useTranslation('backups');
  return (
    <button
      type="button"
      className="button"
      data-variant="danger"
      disabled={backup.locked || BUSY.has(backup.status) || denied(can, 'backups.delete')}
      title={backup.locked ? t('actions.lockedHint') : undefined}
      aria-label={t('actions.deleteNamed', { name: backup.name })}
      onClick={onClick}
    >
      {t('actions.delete')}
    </button>
  );
}
