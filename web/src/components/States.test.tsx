import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import common from '@/locales/en/common.json';
import errors from '@/locales/en/errors.json';
import { ApiError, NetworkError } from '@/lib/errors';
import { ErrorAlert, Loading } from './States';

describe('ErrorAlert', () => {
  it('offers a retry for a network failure and calls it', async () => {
    const retry = vi.fn();
    render(<ErrorAlert error={new NetworkError()} onRetry={retry} />);
    expect(screen.getByRole('alert')).toHaveTextContent(errors.network);
    await userEvent.click(screen.getByRole('button', { name: common.actions.retry }));
    expect(retry).toHaveBeenCalledOnce();
  });

  it('offers no retry when trying again cannot help', () => {
    render(<ErrorAlert error={new ApiError(403, 'FORBIDDEN', 'no')} onRetry={() => undefined} />);
    expect(screen.getByRole('alert')).toHaveTextContent(errors.codes.FORBIDDEN);
    expect(screen.queryByRole('button')).toBeNull();
  });
});

describe('Loading', () => {
  it('is a status message screen readers announce', () => {
    render(<Loading />);
    expect(screen.getByRole('status')).toHaveTextContent(common.state.loading);
  });
});
