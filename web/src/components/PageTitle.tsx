import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router';

/**
 * The page's one h1. It takes focus when it mounts after an in-app navigation, so a screen
 * reader announces the new page and Tab continues from the top of the new content (WCAG 2.4.3).
 * On a fresh load (React Router's first location has the key "default") focus stays at the
 * top of the document, so the first Tab reaches the skip link.
 */
export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { t } = useTranslation();
  const { key } = useLocation();
  useEffect(() => {
    if (key !== 'default') ref.current?.focus({ preventScroll: false });
  }, [key]);
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
