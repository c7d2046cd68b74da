import { describe, expect, it, vi } from 'vitest';
import { WingsSocket, type SocketGrant, type SocketStatus } from './wings-socket';

class FakeSocket {
  readyState = 0;
  sent: { event: string; args?: unknown[] }[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  receive(event: string, ...args: string[]) {
    this.onmessage?.({ data: JSON.stringify({ event, args }) } as MessageEvent);
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
}

function world(grants: (() => Promise<SocketGrant>)[] = []) {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let n = 0;
  const grant = vi.fn(() => {
    n += 1;
    const next = grants.shift();
    return next ? next() : Promise.resolve({ token: `token-${n}`, socket: 'ws://node/api/servers/s1/ws', permissions: ['*'] });
  });
  const ws = new WingsSocket({
    grant,
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    backoff: [10, 20, 40],
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => undefined,
  });
  const states: SocketStatus[] = [];
  const output: string[] = [];
  ws.on('connection', (s) => states.push(s));
  ws.on('output', (line) => output.push(line));
  return { ws, sockets, timers, grant, states, output };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('WingsSocket', () => {
  it('authenticates, then asks for the backlog once, and forwards console output', async () => {
    const { ws, sockets, states, output } = world();
    ws.start();
    await tick();
    const socket = sockets[0]!;
    socket.open();
    expect(socket.sent).toEqual([{ event: 'auth', args: ['token-1'] }]);
    socket.receive('auth success');
    socket.receive('status', 'running');
    socket.receive('console output', '[12:00:01 INFO]: Done (3.2s)!');
    expect(socket.sent[1]).toEqual({ event: 'send logs', args: [null] });
    expect(states).toEqual(['connected']);
    expect(output).toEqual(['[12:00:01 INFO]: Done (3.2s)!']);
    expect(ws.sendCommand('say hi')).toBe(true);
    expect(socket.sent[2]).toEqual({ event: 'send command', args: ['say hi'] });
  });

  it('sends a fresh auth on the same socket on token expiring, without asking for logs again', async () => {
    const { ws, sockets, grant } = world();
    ws.start();
    await tick();
    const socket = sockets[0]!;
    socket.open();
    socket.receive('auth success');
    socket.receive('token expiring');
    await tick();
    socket.receive('auth success');
    expect(grant).toHaveBeenCalledTimes(2);
    expect(sockets).toHaveLength(1);
    expect(socket.sent.map((f) => f.event)).toEqual(['auth', 'send logs', 'auth']);
    expect(socket.sent[2]).toEqual({ event: 'auth', args: ['token-2'] });
  });

  it('reconnects with backoff after a drop and says unreachable after repeated failures', async () => {
    const down = () => Promise.reject(new Error('node down'));
    const { ws, sockets, timers, states } = world([
      () => Promise.resolve({ token: 't', socket: 'ws://x', permissions: [] }),
      down,
      down,
    ]);
    ws.start();
    await tick();
    sockets[0]!.open();
    sockets[0]!.receive('auth success');
    sockets[0]!.drop();
    expect(states.at(-1)).toBe('reconnecting');
    timers.shift()!.fn();
    await tick();
    timers.shift()!.fn();
    await tick();
    expect(states.at(-1)).toBe('unreachable');
    expect(timers.map((t) => t.ms)).toEqual([40]);
    timers.shift()!.fn();
    await tick();
    sockets[1]!.open();
    sockets[1]!.receive('auth success');
    expect(states.at(-1)).toBe('connected');
  });

  it('gives up with a clear state when Wings refuses a fresh token too', async () => {
    const { ws, sockets, states, timers } = world();
    ws.start();
    await tick();
    const socket = sockets[0]!;
    socket.open();
    socket.receive('auth success');
    socket.receive('jwt error', 'jwt: exp claim is invalid');
    await tick();
    socket.receive('jwt error', 'jwt: missing connect permission');
    expect(states.at(-1)).toBe('jwt-error');
    expect(socket.closed).toBe(true);
    expect(timers).toHaveLength(0);
  });

  it('stops for good when the server is deleted (close 1001)', async () => {
    const { ws, sockets, states, timers } = world();
    ws.start();
    await tick();
    sockets[0]!.open();
    sockets[0]!.drop(1001);
    expect(states.at(-1)).toBe('deleted');
    expect(timers).toHaveLength(0);
  });

  it('reads permissions like Wings: * grants all but admin ones', async () => {
    const { ws } = world();
    ws.permissions = ['*'];
    expect(ws.can('control.start')).toBe(true);
    expect(ws.can('admin.websocket.errors')).toBe(false);
    ws.permissions = ['websocket.connect', 'control.console'];
    expect(ws.can('control.start')).toBe(false);
  });
});
