import { useEffect, useState } from 'react';
import { fetchWebsocketToken } from './servers';
import { WingsSocket, type SocketStatus, type Stats } from '../lib/wings-socket';

/** One Wings socket per open server page: connection state, power state and live stats. */
export function useWingsSocket(tenantId: string, serverId: string, enabled: boolean) {
  const [socket, setSocket] = useState<WingsSocket | null>(null);
  const [connection, setConnection] = useState<SocketStatus>('connecting');
  const [detail, setDetail] = useState<string | undefined>();
  const [state, setState] = useState<string | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [, setPermissions] = useState<string[]>([]);

  useEffect(() => {
    if (!enabled) return undefined;
    const ws = new WingsSocket({ grant: () => fetchWebsocketToken(tenantId, serverId) });
    const offs = [
      ws.on('connection', (status, why) => {
        setConnection(status);
        setDetail(why);
        setPermissions(ws.permissions);
      }),
      ws.on('status', setState),
      ws.on('stats', (s) => {
        setStats(s);
        setState(s.state);
      }),
    ];
    setSocket(ws);
    ws.start();
    return () => {
      offs.forEach((off) => off());
      ws.close();
      setSocket(null);
    };
  }, [tenantId, serverId, enabled]);

  return { socket, connection, detail, state, stats };
}
