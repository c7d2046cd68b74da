import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { BlueprintPage } from './BlueprintPage';
import { BlueprintsPage } from './BlueprintsPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const variable = { name: 'Greeting', env_variable: 'GREETING', description: '', default_value: 'Hello', user_viewable: true, user_editable: true, rules: 'required|string|max:40', field_type: 'text' };
const blueprint = (over: Record<string, unknown> = {}) => ({
  id: 'bp_1', name: 'Echo', author: 'a@example.com', description: '', features: [], docker_images: { Debian: 'debian:12' }, startup: 'run',
  stop_type: 'command', stop_value: 'stop', startup_done: [], strip_ansi: false, config_files: [], install_container: 'c', install_entrypoint: 'bash',
  install_script: '', file_denylist: [], variables: [variable], variable_max_length: 1024, logs: {}, update_url: null, servers: 0,
  created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z', ...over,
});

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
});

describe('BlueprintPage', () => {
  it('disables delete while servers use the blueprint and says why', async () => {
    answer('GET', '/v1/admin/blueprints/{blueprint_id}', { body: blueprint({ servers: 2 }) });
    renderWithApp(<BlueprintPage />, { path: '/admin/blueprints/:blueprintId', route: '/admin/blueprints/bp_1' });

    const remove = await screen.findByRole('button', { name: 'Delete blueprint' });
    expect(remove).toBeDisabled();
    expect(remove).toHaveAccessibleDescription('It cannot be deleted while 2 servers use it: delete those servers first.');
    expect(screen.getByText('2 servers use this blueprint.')).toBeInTheDocument();
  });

  it('shows the refusal when a server took the blueprint meanwhile', async () => {
    answer('GET', '/v1/admin/blueprints/{blueprint_id}', { body: blueprint() });
    answer('DELETE', '/v1/admin/blueprints/{blueprint_id}', {
      status: 409,
      body: { error: { code: 'BLUEPRINT_IN_USE', message: '1 server(s) use this blueprint', details: { blueprint_id: 'bp_1', servers: 1 } } },
    });
    renderWithApp(<BlueprintPage />, { path: '/admin/blueprints/:blueprintId', route: '/admin/blueprints/bp_1' });

    fireEvent.click(await screen.findByRole('button', { name: 'Delete blueprint' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Delete Echo?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete blueprint' }));

    expect(await screen.findByText('Servers still use this blueprint. Delete those servers first.')).toBeInTheDocument();
    expect(screen.getByText('It cannot be deleted while a server uses it: delete that server first.')).toBeInTheDocument();
  });

  it('saves a changed rule and puts the API refusal of a rule next to its field', async () => {
    answer('GET', '/v1/admin/blueprints/{blueprint_id}', { body: blueprint() });
    answer('PATCH', '/v1/admin/blueprints/{blueprint_id}', {
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', message: 'bad rule', details: { fields: [{ field: 'variables[0].rules', message: 'unknown rule nope' }] } } },
    });
    renderWithApp(<BlueprintPage />, { path: '/admin/blueprints/:blueprintId', route: '/admin/blueprints/bp_1' });

    const group = await screen.findByRole('group', { name: 'Greeting' });
    fireEvent.change(within(group).getByLabelText('Rules'), { target: { value: 'required|nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));

    await waitFor(() => expect(within(group).getByLabelText('Rules')).toHaveAccessibleDescription(/unknown rule nope/));
    const sent = calls.find((c) => c.method === 'PATCH')?.init.body as { variables: { rules: string }[] };
    expect(sent.variables[0]?.rules).toBe('required|nope');
  });

  it('saves the category that groups blueprints into Pterodactyl nests', async () => {
    answer('GET', '/v1/admin/blueprints/{blueprint_id}', { body: blueprint({ category: 'Voice' }) });
    answer('PATCH', '/v1/admin/blueprints/{blueprint_id}', { body: blueprint({ category: 'Minecraft' }) });
    renderWithApp(<BlueprintPage />, { path: '/admin/blueprints/:blueprintId', route: '/admin/blueprints/bp_1' });

    const category = await screen.findByLabelText('Category');
    expect(category).toHaveValue('Voice');
    fireEvent.change(category, { target: { value: ' Minecraft ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));

    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    const sent = calls.find((c) => c.method === 'PATCH')?.init.body as { category: string };
    expect(sent.category).toBe('Minecraft');
  });
});

describe('BlueprintsPage', () => {
  it('refuses text that is not JSON, previews an egg and imports exactly that egg', async () => {
    answer('GET', '/v1/admin/blueprints', { body: { items: [blueprint()], next_cursor: null } });
    answer('POST', '/v1/admin/blueprints/import/preview', { body: blueprint({ name: 'Paper' }) });
    answer('POST', '/v1/admin/blueprints/import', { status: 201, body: blueprint({ id: 'bp_2', name: 'Paper' }) });
    renderWithApp(<BlueprintsPage />, { path: '/admin/blueprints', route: '/admin/blueprints' });
    expect(await screen.findByRole('link', { name: 'Echo' })).toBeInTheDocument();

    const box = screen.getByLabelText("Or paste the egg's JSON");
    fireEvent.change(box, { target: { value: '{"meta": ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview' }));
    expect(box).toHaveAccessibleDescription(/This is not a JSON object/);
    expect(calls.some((c) => c.method === 'POST')).toBe(false);

    fireEvent.change(box, { target: { value: '{"meta": {"version": "PTDL_v2"}, "name": "Paper"}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview' }));
    const preview = await screen.findByRole('region', { name: 'Preview: Paper' });
    expect(within(preview).getByRole('rowheader', { name: /Greeting/ })).toBeInTheDocument();
    expect(calls.some((c) => c.path === '/v1/admin/blueprints/import')).toBe(false);

    fireEvent.click(within(preview).getByRole('button', { name: 'Import blueprint' }));
    await waitFor(() => expect(calls.some((c) => c.path === '/v1/admin/blueprints/import')).toBe(true));
    expect(calls.find((c) => c.path === '/v1/admin/blueprints/import')?.init.body).toEqual({ meta: { version: 'PTDL_v2' }, name: 'Paper' });
  });
});
