import { useEffect, useState } from 'react';
import { formatClock, formatDuration } from './format';

const MODES = [
  { mode: 'serving', label: 'Serving', hint: 'Hands out tokens' },
  { mode: 'store-down', label: 'Store down', hint: 'HTTP 503' },
  { mode: 'dropping', label: 'Drops connections', hint: 'No answer' },
] as const;

type Mode = (typeof MODES)[number]['mode'];
interface ProxyState {
  mode: Mode;
  /** null: the handler's default. */
  checkIntervalMs: number | null;
  storeLosses: number;
  /** When the store last lost every room, epoch ms. */
  lastLossAt: number | null;
}

// The dev server's control endpoints (example/vite.config.ts), not part of the library.
const MODE_URL = '/api/mock-proxy/mode';
const LOSE_URL = '/api/mock-proxy/lose-rooms';
/** The handler's default `checkIntervalMs`. */
const DEFAULT_CHECK_MS = 8_000;

function checksText(checkIntervalMs: number | null): string {
  if (checkIntervalMs === 0) return 'Checks are off (CHECK_INTERVAL_MS=0): a room the store loses splits until its next rotation.';
  const every = formatDuration(checkIntervalMs ?? DEFAULT_CHECK_MS);
  return `Each page checks its token every ${every} at most: a room the store loses gets its token back from the first check, with no CAS call.`;
}

/** Breaks the token proxy itself, as a Redis restart, a Redis outage or a crashed instance would. */
export function MockProxyControls() {
  const [state, setState] = useState<ProxyState | undefined>();
  const [problem, setProblem] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    fetch(MODE_URL)
      .then((response) => response.json() as Promise<ProxyState>)
      .then((next) => live && setState(next))
      .catch(() => live && setProblem('The control endpoint did not answer.'));
    return () => {
      live = false;
    };
  }, []);

  async function send(url: string, body?: { mode: Mode }) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setState((await response.json()) as ProxyState);
      setProblem(undefined);
    } catch (error) {
      setProblem(`Could not change the token proxy: ${(error as Error).message}`);
    }
  }

  return (
    <section className="card controls" aria-labelledby="proxy-controls-title">
      <h2 id="proxy-controls-title">Token proxy</h2>
      {state === undefined && !problem && <p className="muted">Asking the dev server…</p>}
      {state && (
        <>
          <p className="muted" data-testid="checks">
            {checksText(state.checkIntervalMs)}
          </p>
          <div className="mode-grid" role="group" aria-label="Token proxy state">
            {MODES.map(({ mode, label, hint }) => (
              <button
                key={mode}
                type="button"
                className={`mode mode-${mode === 'serving' ? 'ok' : 'fail'}`}
                aria-pressed={state.mode === mode}
                data-proxy-mode={mode}
                onClick={() => void send(MODE_URL, { mode })}
              >
                <span className="mode-label">{label}</span>
                <span className="mode-hint">{hint}</span>
              </button>
            ))}
            <button type="button" className="mode mode-fail" data-testid="lose-rooms" onClick={() => void send(LOSE_URL)}>
              <span className="mode-label">Store loses every room</span>
              <span className="mode-hint">Redis restarts empty</span>
            </button>
          </div>
          {state.storeLosses > 0 && (
            <p className="muted" data-testid="store-losses">
              The store lost every room {state.storeLosses === 1 ? 'once' : `${state.storeLosses} times`}
              {state.lastLossAt === null ? '' : `, last at ${formatClock(state.lastLossAt)}`}. The next check puts the room’s token back: nothing new in
              the log, and no CAS call. Someone who joins before any check gets a new token, and everyone moves to it at their next
              check (New token).
            </p>
          )}
        </>
      )}
      {problem && <p className="problem">{problem}</p>}
    </section>
  );
}
