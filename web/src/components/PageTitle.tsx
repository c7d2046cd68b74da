import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router';

/**
 * The page's one h1. It takes focus when it mounts after an in-app navigation, so a screen
 * reader announces the new page and Tab continues from the top of the new content (WCAG 2.4.3).
 * On a fresh load or reload focus stays at the top of the document, so the first Tab reaches
 * the skip link: the loaded entry's location key is remembered before the router starts
 * (React Router reads it from history.state, or uses "default").
 */
const LOADED_KEY: string =
  (typeof window !== 'undefined' && (window.history.state as { key?: string } | null)?.key) || 'default';

export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { t } = useTranslation();
  const { key } = useLocation();
  useEffect(() => {
    if (key !== LOADED_KEY) ref.current?.focus({ preventScroll: false });
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
