import { describe, expect, it } from 'vitest';
import { bodyOf, draftOf, NEW_NODE } from '../components/NodeForm';
import { parseList, parsePorts, setupCommand, type Node } from './nodes';

describe('parsePorts', () => {
  it('keeps single ports as numbers and ranges as text, whatever the separators', () => {
    expect(parsePorts('25565, 25570-25600\n 27015 ,')).toEqual([25565, '25570-25600', 27015]);
  });
  it('passes a bad entry on as typed, so the API names it', () => {
    expect(parsePorts('abc')).toEqual(['abc']);
  });
});

describe('setupCommand', () => {
  it('carries config.yml byte for byte (UTF-8) and writes it root-only before starting Wings', () => {
    const yml = "remote: 'https://panel.example.com'\ntoken: aB3\nname: Knödel ' \"$(rm -rf /)\"\n";
    const command = setupCommand(yml);
    const encoded = /echo '([A-Za-z0-9+/=]+)' \| base64 -d/.exec(command)?.[1] ?? '';
    expect(new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)))).toBe(yml);
    // Nothing of the file reaches the shell unencoded: the only quotes are the echo's own.
    expect(command).not.toContain('$(');
    expect(command).toMatch(/tee \/etc\/pterodactyl\/config.yml >\/dev\/null && sudo chmod 600 \/etc\/pterodactyl\/config.yml && sudo systemctl enable --now wings$/);
  });
});

describe('node form body', () => {
  it('sends numbers as numbers, lists split on commas, and text trimmed', () => {
    const body = bodyOf({ ...NEW_NODE, name: ' Frankfurt 1 ', fqdn: 'node1.example.com', memory_mb: '4096', disk_mb: '10240', tags: 'ssd, eu,', allowed_tenants: '', allowed_origins: 'https://panel.example.com, https://staff.example.com:8443' });
    expect(body).toMatchObject({ name: 'Frankfurt 1', memory_mb: 4096, disk_mb: 10240, daemon_port: 8080, tags: ['ssd', 'eu'], allowed_tenants: [], allowed_origins: ['https://panel.example.com', 'https://staff.example.com:8443'] });
  });
  it('sends a number field that is not a whole number as typed, for the API to refuse at its input', () => {
    expect(bodyOf({ ...NEW_NODE, memory_mb: '' }).memory_mb).toBe('');
    expect(bodyOf({ ...NEW_NODE, memory_mb: '1.5' }).memory_mb).toBe('1.5');
  });
  it('round-trips a node through the edit form unchanged', () => {
    const node = {
      id: 'n1', uuid: 'u', name: 'A', location: 'fra', fqdn: 'a.example.com', scheme: 'http', behind_proxy: true, daemon_port: 8443,
      sftp_port: 2222, daemon_base: '/srv', upload_limit_mb: 50, memory_mb: 2048, memory_overallocate_percent: -1, disk_mb: 4096,
      disk_overallocate_percent: 10, maintenance: false, allowed_tenants: ['t1', 't2'], allowed_origins: ['https://panel.example.com'], tags: ['ssd'], token_id: 'x',
      connection_address: 'http://a.example.com:8443', created_at: '', updated_at: '',
    } as Node;
    const { id: _, uuid: __, maintenance: ___, token_id: ____, connection_address: _____, created_at: ______, updated_at: _______, ...fields } = node;
    expect(bodyOf(draftOf(node))).toEqual(fields);
  });
  it('parses a comma list', () => {
    expect(parseList(' a, ,b ')).toEqual(['a', 'b']);
  });
});
