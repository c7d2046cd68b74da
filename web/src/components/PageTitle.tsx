import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * The page's one h1. It takes focus when it mounts, so after every navigation a screen reader
 * announces the new page and Tab continues from the top of the new content (WCAG 2.4.3).
 */
export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { t } = useTranslation();
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  useEffect(() => {
    const text = title ?? (typeof children === 'string' ? children : ref.current?.textContent ?? '');
    document.title = `${text} · ${t('common:app.name')}`;
  }, [title, children, t]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}
