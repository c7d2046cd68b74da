import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import i18n from 'i18next';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { PermissionPicker, groupPermissions } from './PermissionPicker';

const CATALOGUE = ['servers.read', 'servers.power', 'backups.read', 'backups.create', 'audit.read'];

function Harness({ initial = [] as string[], onChange = (_: string[]) => {} }) {
  const [selected, setSelected] = useState(initial);
  return (
    <PermissionPicker
      catalogue={CATALOGUE}
      selected={selected}
      onChange={(next) => {
        setSelected(next);
        onChange(next);
      }}
    />
  );
}

describe('groupPermissions', () => {
  it('groups by the part before the dot, families and members sorted', () => {
    expect(groupPermissions(CATALOGUE)).toEqual([
      ['audit', ['audit.read']],
      ['backups', ['backups.create', 'backups.read']],
      ['servers', ['servers.power', 'servers.read']],
    ]);
  });
});

describe('PermissionPicker', () => {
  afterEach(async () => {
    cleanup();
    await i18n.changeLanguage('en');
  });

  it('shows one labelled group per family with translated permissions', async () => {
    await i18n.changeLanguage('en');
    render(<Harness />);
    expect(screen.getByRole('group', { name: 'Servers' })).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Backups' })).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: /Start, stop, restart and kill servers/ })).not.toBeChecked();
  });

  it('checks a whole family at once and reports the sorted selection', async () => {
    const seen: string[][] = [];
    render(<Harness initial={['audit.read']} onChange={(n) => seen.push(n)} />);
    await userEvent.click(screen.getByRole('checkbox', { name: 'All of “Backups”' }));
    expect(seen.at(-1)).toEqual(['audit.read', 'backups.create', 'backups.read']);
    expect(screen.getByRole('checkbox', { name: /Create backups/ })).toBeChecked();
  });

  it('marks a family partly chosen as mixed, and unchecks all of it', async () => {
    const seen: string[][] = [];
    render(<Harness initial={['servers.read', 'servers.power']} onChange={(n) => seen.push(n)} />);
    await userEvent.click(screen.getByRole('checkbox', { name: /Start, stop, restart and kill servers/ }));
    const all = screen.getByRole('checkbox', { name: 'All of “Servers”' }) as HTMLInputElement;
    expect(all.indeterminate).toBe(true);
    await userEvent.click(all);
    await userEvent.click(all);
    expect(seen.at(-1)).toEqual([]);
  });

  it('speaks German', async () => {
    await i18n.changeLanguage('de');
    render(<Harness />);
    expect(screen.getByRole('group', { name: 'Server' })).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'Alle aus „Backups“' })).toBeInTheDocument();
  });
});
