import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { TwoFactorSection } from './TwoFactorSection';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const codes = Array.from({ length: 10 }, (_, i) => `AAAA-BBBB-CCCC-000${i}`);

beforeEach(() => {
  resetApi();
});

describe('TwoFactorSection', () => {
  it('enrols with a QR code and the key, confirms a code and shows the recovery codes once', async () => {
    let enabled = false;
    answer('GET', '/v1/me/2fa', () => ({ body: { enabled, pending: false, recovery_codes_left: enabled ? 10 : 0 } }));
    answer('POST', '/v1/me/2fa/enrol', { body: { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Mamba:ada?secret=JBSWY3DPEHPK3PXP&issuer=Mamba' } });
    answer('POST', '/v1/me/2fa/confirm', () => {
      enabled = true;
      return { body: { enabled: true, recovery_codes: codes } };
    });
    renderWithApp(<TwoFactorSection />);
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on two-factor authentication' }));
    expect(await screen.findByRole('img', { name: 'QR code for your authenticator app' })).toBeInTheDocument();
    expect(screen.getByText('JBSWY3DPEHPK3PXP')).toBeInTheDocument();
    const confirm = screen.getByRole('button', { name: 'Confirm and turn on' });
    expect(confirm).toBeDisabled();
    await userEvent.type(screen.getByLabelText('Code from the app'), '123 456');
    await userEvent.click(confirm);
    await waitFor(() => expect(calls.find((c) => c.path === '/v1/me/2fa/confirm')?.init.body).toEqual({ code: '123456' }));
    expect(await screen.findByRole('heading', { name: 'Recovery codes' })).toBeInTheDocument();
    expect(screen.getAllByRole('listitem')).toHaveLength(10);
    await userEvent.click(screen.getByRole('button', { name: 'I have saved the codes' }));
    expect(await screen.findByText('Two-factor authentication is on.')).toBeInTheDocument();
    expect(screen.queryByText(codes[0]!)).not.toBeInTheDocument();
  });

  it('puts a wrong code next to the code field', async () => {
    answer('GET', '/v1/me/2fa', { body: { enabled: false, pending: false, recovery_codes_left: 0 } });
    answer('POST', '/v1/me/2fa/enrol', { body: { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP' } });
    answer('POST', '/v1/me/2fa/confirm', {
      status: 401,
      body: { error: { code: 'UNAUTHORIZED', message: 'x', details: { reason: 'totp_invalid' } }, request_id: 'r' },
    });
    renderWithApp(<TwoFactorSection />);
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on two-factor authentication' }));
    const field = await screen.findByLabelText('Code from the app');
    await userEvent.type(field, '000000');
    await userEvent.click(screen.getByRole('button', { name: 'Confirm and turn on' }));
    await waitFor(() => expect(field).toHaveAttribute('aria-invalid', 'true'));
  });

  it('turns off with a recovery code when asked to', async () => {
    answer('GET', '/v1/me/2fa', { body: { enabled: true, pending: false, recovery_codes_left: 2 } });
    answer('POST', '/v1/me/2fa/disable', { body: { enabled: false } });
    renderWithApp(<TwoFactorSection />);
    expect(await screen.findByText('2 recovery codes left.')).toBeInTheDocument();
    expect(screen.getByText(/Few recovery codes are left/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('radio', { name: 'a recovery code' }));
    await userEvent.type(screen.getByLabelText('Recovery code'), ' AAAA-BBBB-CCCC-DDDD ');
    await userEvent.click(screen.getByRole('button', { name: 'Turn off two-factor authentication' }));
    await waitFor(() => expect(calls.find((c) => c.path === '/v1/me/2fa/disable')?.init.body).toEqual({ recovery_code: 'AAAA-BBBB-CCCC-DDDD' }));
  });
});
