import type { ReactNode } from 'react';
import { PageTitle } from '@/components/PageTitle';

/** The narrow column every signed-out page uses. */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="narrow">
      <PageTitle>{title}</PageTitle>
      {children}
    </div>
  );
}

/** Only same-app paths are followed after signing in (no open redirect). */
export function safeNext(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}
