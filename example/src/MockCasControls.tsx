import { useEffect, useState } from 'react';

const MODES = [
  { mode: 'ok', label: 'Healthy', hint: 'Signs a token' },
  { mode: 'unauthorized', label: 'Wrong key', hint: 'HTTP 401' },
  { mode: 'error', label: 'CAS down', hint: 'HTTP 500' },
  { mode: 'html', label: 'HTML page', hint: 'Not JSON' },
  { mode: 'no-token', label: 'No token', hint: 'JSON, no token' },
  { mode: 'hang', label: 'Hangs', hint: 'Never answers' },
] as const;

type Mode = (typeof MODES)[number]['mode'];
type ControlState = { enabled: true; mode: Mode; lifetimeMs: number; casCalls: number } | { enabled: false };

// The dev server's control endpoint (example/vite.config.ts), not part of the library.
const CONTROL_URL = '/api/mock-cas/mode';
/** How often the count of CAS calls is read again. */
const POLL_MS = 2_000;

/** Tells the dev server's mock CAS how to answer, to see the error panel and the recovery. */
export function MockCasControls() {
  const [state, setState] = useState<ControlState | undefined>();
  const [problem, setProblem] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    // Read again now and then: the count of CAS calls shows what a store loss or a rotation costs.
    const read = () =>
      fetch(CONTROL_URL)
        .then((response) => response.json() as Promise<ControlState>)
        .then((next) => live && setState(next))
        .catch(() => live && setProblem('The control endpoint did not answer.'));
    void read();
    const timer = setInterval(read, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  async function choose(mode: Mode) {
    try {
      const response = await fetch(CONTROL_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setState((await response.json()) as ControlState);
      setProblem(undefined);
    } catch (error) {
      setProblem(`Could not switch the mock CAS: ${(error as Error).message}`);
    }
  }

  return (
    <section className="card controls" aria-labelledby="controls-title">
      <h2 id="controls-title">Mock CAS</h2>
      {state === undefined && !problem && <p className="muted">Asking the dev server…</p>}
      {state?.enabled === false && (
        <p className="muted">This server talks to a real CAS (CAS_URL is set), so there is nothing to break on purpose.</p>
      )}
      {state?.enabled && (
        <>
          <p className="muted">
            Tokens live {Math.round(state.lifetimeMs / 1000)} s. Make CAS fail, watch the error panel, then heal it: the page
            recovers on its own.
          </p>
          <p className="muted" data-testid="cas-calls">
            CAS calls so far: {state.casCalls}
          </p>
          <div className="mode-grid" role="group" aria-label="Mock CAS answers">
            {MODES.map(({ mode, label, hint }) => (
              <button
                key={mode}
                type="button"
                className={`mode mode-${mode === 'ok' ? 'ok' : 'fail'}`}
                aria-pressed={state.mode === mode}
                data-mode={mode}
                onClick={() => void choose(mode)}
              >
                <span className="mode-label">{label}</span>
                <span className="mode-hint">{hint}</span>
              </button>
            ))}
          </div>
        </>
      )}
      {problem && <p className="problem">{problem}</p>}
    </section>
  );
}
