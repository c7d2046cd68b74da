/**
 * The console's connection straight to Wings (wings-contract.md §4). One object owns the
 * socket: it authenticates with a token from `GET .../websocket`, asks for the backlog
 * (`send logs`) after the first `auth success`, re-authenticates on the same socket when
 * Wings says `token expiring` (or the token died), and reconnects with backoff when the
 * socket drops. Console bytes never pass through the API.
 */

export interface SocketGrant {
  token: string;
  socket: string;
  permissions: string[];
}

export type SocketStatus =
  | 'connecting' // first connection
  | 'connected' // authenticated
  | 'reconnecting' // dropped; trying again with backoff
  | 'unreachable' // the node (or the API handing out tokens) does not answer; still retrying
  | 'jwt-error' // Wings refuses our tokens: stop and say so
  | 'deleted' // the server was deleted (close 1001)
  | 'closed'; // we closed it

export interface Stats {
  cpu_absolute: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  disk_bytes: number;
  network: { rx_bytes: number; tx_bytes: number };
  state: string;
  uptime: number;
}

type Handlers = {
  output: (line: string) => void;
  status: (status: string) => void; // the server's power state (offline|starting|running|stopping)
  stats: (stats: Stats) => void;
  connection: (status: SocketStatus, detail?: string) => void;
  daemon: (message: string) => void;
};

interface SocketLike {
  readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface WingsSocketOptions {
  /** A fresh grant from the API (`GET .../websocket`); rejects when the API or node is down. */
  grant: () => Promise<SocketGrant>;
  createSocket?: (url: string) => SocketLike;
  /** Backoff delays in ms; the last repeats. */
  backoff?: number[];
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const OPEN = 1;
// After this many failed attempts in a row the node is called unreachable (retries go on).
const UNREACHABLE_AFTER = 3;

export class WingsSocket {
  private socket: SocketLike | null = null;
  private handlers: { [K in keyof Handlers]: Set<Handlers[K]> } = {
    output: new Set(),
    status: new Set(),
    stats: new Set(),
    connection: new Set(),
    daemon: new Set(),
  };
  private authenticated = false;
  private stopped = false;
  private failures = 0;
  private jwtErrors = 0;
  private timer: unknown = null;
  private refreshing = false;
  private lines: string[] = [];
  permissions: string[] = [];
  connection: SocketStatus = 'connecting';
  /** Console lines kept for a terminal that mounts later (the xterm chunk loads on use). */
  static readonly BACKLOG = 1000;

  backlog(): string[] {
    return [...this.lines];
  }

  constructor(private readonly options: WingsSocketOptions) {}

  on<K extends keyof Handlers>(event: K, handler: Handlers[K]): () => void {
    this.handlers[event].add(handler);
    return () => this.handlers[event].delete(handler);
  }

  private emit<K extends keyof Handlers>(event: K, ...args: Parameters<Handlers[K]>): void {
    for (const handler of this.handlers[event]) (handler as (...a: Parameters<Handlers[K]>) => void)(...args);
  }

  private setConnection(status: SocketStatus, detail?: string): void {
    this.connection = status;
    this.emit('connection', status, detail);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  close(): void {
    this.stopped = true;
    this.clearRetry();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'closed by the panel');
    }
    this.setConnection('closed');
  }

  /** Whether the grant allows a Wings permission (`*` grants all but admin ones). */
  can(permission: string): boolean {
    return this.permissions.includes(permission) || (this.permissions.includes('*') && !permission.startsWith('admin'));
  }

  sendCommand(line: string): boolean {
    return this.send('send command', line);
  }

  setState(action: 'start' | 'stop' | 'restart' | 'kill'): boolean {
    return this.send('set state', action);
  }

  private send(event: string, ...args: string[]): boolean {
    if (!this.socket || this.socket.readyState !== OPEN || (!this.authenticated && event !== 'auth')) return false;
    this.socket.send(JSON.stringify(args.length ? { event, args } : { event, args: [null] }));
    return true;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let grant: SocketGrant;
    try {
      grant = await this.options.grant();
    } catch (error) {
      this.retry(error instanceof Error ? error.message : undefined);
      return;
    }
    if (this.stopped) return;
    this.permissions = grant.permissions;
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    let socket: SocketLike;
    try {
      socket = create(grant.socket);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    this.authenticated = false;
    socket.onopen = () => socket.send(JSON.stringify({ event: 'auth', args: [grant.token] }));
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onerror = () => undefined; // onclose follows and decides
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.authenticated = false;
      if (event.code === 1001) {
        this.stopped = true;
        this.setConnection('deleted');
        return;
      }
      this.retry();
    };
  }

  private retry(detail?: string): void {
    if (this.stopped || this.connection === 'jwt-error') return;
    this.failures += 1;
    this.setConnection(this.failures >= UNREACHABLE_AFTER ? 'unreachable' : 'reconnecting', detail);
    const delays = this.options.backoff ?? [1000, 2000, 4000, 8000, 15000, 30000];
    const delay = delays[Math.min(this.failures - 1, delays.length - 1)] ?? 30000;
    const set = this.options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearRetry();
    this.timer = set(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.timer !== null) (this.options.clearTimer ?? ((h) => clearTimeout(h as number)))(this.timer);
    this.timer = null;
  }

  /** A fresh token sent as a new `auth` on the same socket (no reconnect, no lost output). */
  private async reauthenticate(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const grant = await this.options.grant();
      this.permissions = grant.permissions;
      if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify({ event: 'auth', args: [grant.token] }));
    } catch {
      // The socket stays; the next `token expiring`/`jwt error` or a drop tries again.
    } finally {
      this.refreshing = false;
    }
  }

  private receive(raw: string): void {
    let frame: { event?: string; args?: unknown[] };
    try {
      frame = JSON.parse(raw) as typeof frame;
    } catch {
      return;
    }
    const arg = typeof frame.args?.[0] === 'string' ? (frame.args[0] as string) : '';
    switch (frame.event) {
      case 'auth success': {
        this.jwtErrors = 0;
        this.failures = 0;
        const first = !this.authenticated;
        this.authenticated = true;
        if (first) {
          this.setConnection('connected');
          this.send('send logs');
        }
        break;
      }
      case 'console output':
      case 'install output':
        this.lines.push(arg);
        if (this.lines.length > WingsSocket.BACKLOG) this.lines.splice(0, this.lines.length - WingsSocket.BACKLOG);
        this.emit('output', arg);
        break;
      case 'status':
        this.emit('status', arg);
        break;
      case 'stats':
        try {
          this.emit('stats', JSON.parse(arg) as Stats);
        } catch {
          /* a malformed stats frame is skipped */
        }
        break;
      case 'token expiring':
      case 'token expired':
        void this.reauthenticate();
        break;
      case 'jwt error':
        // One fresh token may fix an expired or denied one; a second refusal in a row will not.
        this.jwtErrors += 1;
        if (this.jwtErrors >= 2) {
          this.stopped = true;
          this.setConnection('jwt-error', arg);
          this.socket?.close(1000, 'jwt error');
        } else {
          void this.reauthenticate();
        }
        break;
      case 'daemon message':
      case 'daemon error':
        this.emit('daemon', arg);
        break;
      default:
        break;
    }
  }
}
