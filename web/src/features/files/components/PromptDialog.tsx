import { useEffect, useState, type FormEvent } from 'react';
import { Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { TextField } from '@/components/Field';

/** A modal asking for one value (new name, copy target, mode); Escape cancels. */
export function PromptDialog({
  isOpen,
  title,
  label,
  hint,
  initial,
  submitLabel,
  error,
  busy,
  onSubmit,
  onCancel,
}: {
  isOpen: boolean;
  title: string;
  label: string;
  hint?: string;
  initial: string;
  submitLabel: string;
  error?: string | undefined;
  busy?: boolean;
  onSubmit: (value: string) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [value, setValue] = useState(initial);
  useEffect(() => setValue(initial), [initial, isOpen]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) onSubmit(value.trim());
  };
  return (
    <ModalOverlay className="modal-overlay" isOpen={isOpen} onOpenChange={(open) => !open && onCancel()} isDismissable>
      <Modal className="modal">
        <Dialog>
          <Heading slot="title">{title}</Heading>
          <form onSubmit={submit}>
            <TextField label={label} hint={hint} value={value} onChange={(e) => setValue(e.target.value)} error={error} autoFocus required />
            <div className="button-row">
              <button type="submit" className="button" disabled={busy}>
                {submitLabel}
              </button>
              <button type="button" className="button" data-variant="secondary" onClick={onCancel}>
                {t('common:actions.cancel')}
              </button>
            </div>
          </form>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}
