import { Navigate, Outlet, useLocation } from 'react-router';
import { Loading } from '@/components/States';
import { useSessionState } from '@/features/auth/api/session';

/** Signed-in pages: wait for the cookie refresh on first load, else send to sign in and back. */
export function RequireAuth() {
  const state = useSessionState();
  const location = useLocation();
  if (state === 'checking') return <Loading />;
  if (state === 'signed-out') {
    return <Navigate to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  return <Outlet />;
}

/** Sign in and sign up: someone already signed in goes on. */
export function RedirectIfSignedIn() {
  const state = useSessionState();
  const location = useLocation();
  if (state === 'checking') return <Loading />;
  if (state === 'signed-in') {
    const next = new URLSearchParams(location.search).get('next');
    return <Navigate to={next && next.startsWith('/') && !next.startsWith('//') ? next : '/'} replace />;
  }
  return <Outlet />;
}
