import { useStreamToken, type CasTokenError } from 'react-cas-token';
import { formatClock, formatDuration, shortToken } from './format';
import type { ROOMS } from './rooms';
import { useNow } from './useNow';

type Connection = { label: string; tone: 'ok' | 'busy' | 'warn' | 'bad'; detail: string };

function connectionOf(state: { token: string | undefined; error: CasTokenError | null; isRefreshing: boolean }): Connection {
  const { token, error, isRefreshing } = state;
  if (token && !error) {
    return isRefreshing
      ? { label: 'Refreshing', tone: 'busy', detail: 'Asking for the next token; the current one still works.' }
      : { label: 'Connected', tone: 'ok', detail: 'The video call has a valid token.' };
  }
  if (token && error) return { label: 'Renewal failing', tone: 'warn', detail: 'The current token still works until it expires.' };
  if (error) return { label: 'Disconnected', tone: 'bad', detail: 'No valid token: the call cannot join.' };
  return { label: 'Connecting', tone: 'busy', detail: 'Getting a token for this room…' };
}

function ErrorPanel({ error, onRetry }: { error: CasTokenError; onRetry: () => void }) {
  const retried = error.code !== 'unauthorized' && !error.code.startsWith('invalid-');
  return (
    <div className="error-panel" role="alert" data-testid="error-panel" data-code={error.code}>
      <div className="error-head">
        <strong>Could not get a token</strong>
        <span className="badge">
          {error.code}
          {error.status === undefined ? '' : ` · HTTP ${error.status}`}
        </span>
      </div>
      <p>{error.message}</p>
      <div className="error-foot">
        <span className="muted">{retried ? 'Retrying on its own, with backoff.' : 'Not retried: this needs a fix, not a wait.'}</span>
        <button type="button" className="button ghost" onClick={onRetry}>
          Try again now
        </button>
      </div>
    </div>
  );
}

interface CountdownProps {
  refreshAt: number;
  expiresAt: number;
  receivedAt: number;
  now: number;
  /** A renewal failed and is being retried: the planned refresh time has passed. */
  retrying: boolean;
}

function Countdown({ refreshAt, expiresAt, receivedAt, now, retrying }: CountdownProps) {
  const finite = Number.isFinite(expiresAt);
  const span = finite ? expiresAt - receivedAt : 1;
  const used = finite ? Math.min(1, Math.max(0, (now - receivedAt) / span)) : 0;
  const mark = finite ? Math.min(1, Math.max(0, (refreshAt - receivedAt) / span)) : 1;
  return (
    <div className="countdown">
      <div className="countdown-figures">
        <div>
          <span className="figure-label">{retrying ? 'Renewal' : 'Next refresh in'}</span>
          <span className="figure" data-testid="refresh-countdown">
            {retrying ? 'retrying' : refreshAt <= now ? 'now' : formatDuration(refreshAt - now)}
          </span>
        </div>
        <div>
          <span className="figure-label">Expires in</span>
          <span className="figure">{formatDuration(expiresAt - now)}</span>
        </div>
      </div>
      <div
        className="lifetime"
        role="progressbar"
        aria-label="Token lifetime used"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(used * 100)}
      >
        <div className="lifetime-used" style={{ width: `${used * 100}%` }} />
        <div className="lifetime-mark" style={{ left: `${mark * 100}%` }} title="Refresh point" />
      </div>
    </div>
  );
}

/** One room of the watch party: everything here reads the token through `useStreamToken`. */
export function WatchRoom({ room }: { room: (typeof ROOMS)[number] }) {
  const { token, info, status, error, isRefreshing, refresh } = useStreamToken();
  const now = useNow();
  const connection = connectionOf({ token, error, isRefreshing });
  // The error is in state (and the panel); the rejected promise needs no second report.
  const refreshNow = () => void refresh();
  const { rid, unct, iat, exp, ...otherClaims } = info?.claims ?? {};

  return (
    <section className="card room" data-testid="room" data-status={status} aria-labelledby="room-title">
      <div className={`stage stage-${connection.tone}`}>
        <span className={`pill pill-${connection.tone}`} data-testid="connection">
          <span className="dot" aria-hidden="true" />
          {connection.label}
        </span>
        <div className="stage-title">
          <h2 id="room-title">{room.title}</h2>
          <p>{room.subtitle}</p>
        </div>
        <p className="stage-detail">{connection.detail}</p>
      </div>

      {error && <ErrorPanel error={error} onRetry={refreshNow} />}

      {info && token ? (
        <Countdown
          refreshAt={info.refreshAt}
          expiresAt={info.expiresAt}
          receivedAt={info.receivedAt}
          now={now}
          retrying={error !== null}
        />
      ) : (
        <div className="countdown placeholder">{error ? 'No valid token.' : 'Waiting for the first token…'}</div>
      )}

      <div className="actions">
        <button type="button" className="button" onClick={refreshNow} disabled={isRefreshing} data-testid="refresh">
          {isRefreshing ? 'Refreshing…' : 'Refresh now'}
        </button>
        <span className="muted">Received {formatClock(info?.receivedAt)}</span>
      </div>

      <div className="token-block">
        <h3>Token</h3>
        <code className="token" data-testid="token" data-token={token ?? ''} title={token}>
          {token ? shortToken(token) : '—'}
        </code>
        <dl className="claims" data-testid="claims">
          <dt>rid</dt>
          <dd>{String(rid ?? '—')}</dd>
          <dt>unct</dt>
          <dd>{String(unct ?? '—')}</dd>
          <dt>issued</dt>
          <dd>{typeof iat === 'number' ? `${formatClock(iat * 1000)} (iat ${iat})` : '—'}</dd>
          <dt>expires</dt>
          <dd>{typeof exp === 'number' ? `${formatClock(exp * 1000)} (exp ${exp})` : '—'}</dd>
          {Object.entries(otherClaims).map(([name, value]) => (
            <Claim key={name} name={name} value={value} />
          ))}
        </dl>
      </div>
    </section>
  );
}

function Claim({ name, value }: { name: string; value: unknown }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
    </>
  );
}
