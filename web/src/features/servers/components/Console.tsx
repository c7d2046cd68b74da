/**
 * The console: xterm.js showing the Wings socket's output, and a command line under it.
 * Loaded on use (its own chunk: xterm is the heaviest part of the server page).
 * Keyboard: Tab reaches the terminal; Escape then Tab leaves it (the hint says so).
 */
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { installConstructableStyles } from '@/lib/constructable-styles';
import type { WingsSocket } from '../lib/wings-socket';

// Before any Terminal exists: xterm's <style> elements become CSP-allowed constructable sheets.
installConstructableStyles();

function readToken(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export default function Console({ socket, canSend }: { socket: WingsSocket; canSend: boolean }) {
  const { t } = useTranslation();
  const host = useRef<HTMLDivElement>(null);
  const [command, setCommand] = useState('');
  const [history, setHistory] = useState<string[]>([]);
  const [historyAt, setHistoryAt] = useState(-1);
  const hintId = useId();
  const inputId = useId();

  useEffect(() => {
    if (!host.current) return undefined;
    const terminal = new Terminal({
      convertEol: true,
      disableStdin: true,
      scrollback: 5000,
      fontFamily: readToken('--font-mono', 'monospace'),
      fontSize: 14,
      screenReaderMode: true,
      theme: { background: readToken('--color-terminal-bg', '#101418'), foreground: readToken('--color-terminal-text', '#e6e9ec') },
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.loadAddon(new WebLinksAddon());
    terminal.open(host.current);
    // Escape then Tab leaves the terminal: xterm would otherwise keep Tab for itself.
    let escaped = false;
    terminal.attachCustomKeyEventHandler((event) => {
      if (event.type !== 'keydown') return true;
      if (event.key === 'Escape') {
        escaped = true;
        return false;
      }
      if (event.key === 'Tab' && escaped) {
        escaped = false;
        return false;
      }
      escaped = false;
      return true;
    });
    const safeFit = () => {
      try {
        fit.fit();
      } catch {
        /* not laid out yet */
      }
    };
    safeFit();
    for (const line of socket.backlog()) terminal.writeln(line);
    const off = socket.on('output', (line) => terminal.writeln(line));
    const resize = new ResizeObserver(safeFit);
    resize.observe(host.current);
    return () => {
      off();
      resize.disconnect();
      terminal.dispose();
    };
  }, [socket]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const line = command.trim();
    if (!line) return;
    if (socket.sendCommand(line)) {
      setHistory((h) => [line, ...h].slice(0, 50));
      setHistoryAt(-1);
      setCommand('');
    }
  };

  return (
    <section aria-labelledby={`${hintId}-title`}>
      <h2 id={`${hintId}-title`}>{t('servers:console.title')}</h2>
      <p id={hintId} className="muted">
        {t('servers:console.keyboardHint')}
      </p>
      <div
        ref={host}
        className="terminal"
        role="log"
        aria-label={t('servers:console.output')}
        aria-describedby={hintId}
        data-testid="console-output"
      />
      <form className="console-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={inputId}>{t('servers:console.command')}</label>
          <input
            id={inputId}
            value={command}
            disabled={!canSend}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setCommand(e.target.value)}
            onKeyDown={(e) => {
              // Up and Down walk the command history, as in a shell.
              if (e.key === 'ArrowUp' && history.length) {
                e.preventDefault();
                const at = Math.min(historyAt + 1, history.length - 1);
                setHistoryAt(at);
                setCommand(history[at] ?? '');
              } else if (e.key === 'ArrowDown' && historyAt >= 0) {
                e.preventDefault();
                const at = historyAt - 1;
                setHistoryAt(at);
                setCommand(at >= 0 ? (history[at] ?? '') : '');
              }
            }}
          />
        </div>
        <button type="submit" className="button" disabled={!canSend}>
          {t('servers:console.send')}
        </button>
      </form>
      {!canSend && <p className="muted">{t('servers:console.cannotSend')}</p>}
    </section>
  );
}
