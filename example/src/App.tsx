import { useRef, useState } from 'react';
import { CasTokenProvider, createProxyFetcher, type CasTokenError, type StreamTokenInfo } from 'react-cas-token';
import { MockCasControls } from './MockCasControls';
import { MockProxyControls } from './MockProxyControls';
import { RefreshLog, type LogEntry, type LogEvent } from './RefreshLog';
import { RoomPicker } from './RoomPicker';
import { ROOMS, roomFromUrl, type RoomId } from './rooms';
import { WatchRoom } from './WatchRoom';

// Our own backend hands out the token: the CAS API secret never reaches the browser.
const fetcher = createProxyFetcher('/api/cas-token');

const LOG_SIZE = 30;

export function App() {
  const [room, setRoom] = useState<RoomId>(() => roomFromUrl(window.location.search));
  const [log, setLog] = useState<LogEntry[]>([]);
  const lastToken = useRef(new Map<string, string>());
  const nextId = useRef(0);

  function append(event: LogEvent) {
    const entry = { ...event, id: nextId.current++ };
    setLog((entries) => [entry, ...entries].slice(0, LOG_SIZE));
  }

  function onToken(info: StreamTokenInfo) {
    const previous = lastToken.current.get(room);
    lastToken.current.set(room, info.token);
    const kind = previous === undefined ? 'first' : previous === info.token ? 'same' : 'renewed';
    append({ kind, room, at: info.receivedAt, token: info.token, expiresAt: info.expiresAt });
  }

  function chooseRoom(next: RoomId) {
    setRoom(next);
    // The address names the room, so it can be sent to the rest of the party.
    window.history.replaceState(null, '', `?room=${next}`);
  }

  function onError(error: CasTokenError) {
    append({ kind: 'error', room, at: Date.now(), code: error.code, message: error.message });
  }

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">▶</span>
          <div>
            <h1>Watch party</h1>
            <p>A live CAS streaming token, kept fresh by react-cas-token</p>
          </div>
        </div>
      </header>

      <RoomPicker room={room} onChange={chooseRoom} />

      <main className="layout">
        <CasTokenProvider fetcher={fetcher} room={room} onToken={onToken} onError={onError}>
          <WatchRoom room={ROOMS.find((candidate) => candidate.id === room)!} />
        </CasTokenProvider>
        <aside className="sidebar">
          <RefreshLog entries={log} />
          <MockCasControls />
          <MockProxyControls />
        </aside>
      </main>

      <footer className="footer">
        The page asks <code>/api/cas-token</code>; the dev server's <code>react-cas-token/server</code> handler asks CAS with
        the API secret, which never leaves the server.
      </footer>
    </div>
  );
}
