import { useTranslation } from 'react-i18next';

/**
 * The readable name of an operation type or step when the locale has one, else the raw name:
 * workflows added later show up under their own name instead of a missing translation.
 * The same for an operation's error: its code's sentence (errors.json), else its message.
 */
export function useOperationNames() {
  const { t, i18n } = useTranslation('adminOperations');
  const named = (group: 'types' | 'steps', name: string) =>
    i18n.exists(`adminOperations:${group}.${name}`) ? t(`${group}.${name}`) : name;
  return {
    type: (name: string) => named('types', name),
    step: (name: string) => named('steps', name),
    /** The error in the reader's language when its code has a sentence, else the workflow's own (English) message. */
    error: (error: { code: string; message: string }) =>
      i18n.exists(`errors:codes.${error.code}`) ? t(`errors:codes.${error.code}`) : error.message,
  };
}
