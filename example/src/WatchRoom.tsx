import { useState } from 'react';
import { useStreamToken, type CasTokenError, type StreamTokenInfo } from 'react-cas-token';
import { formatClock, formatDuration, shortToken } from './format';
import type { ROOMS } from './rooms';
import { useNow } from './useNow';

type Connection = { label: string; tone: 'ok' | 'busy' | 'warn' | 'bad'; detail: string };

interface ConnectionInput {
  token: string | undefined;
  error: CasTokenError | null;
  isRefreshing: boolean;
  /** The room held a token before, which has expired. */
  expired: boolean;
}

function connectionOf({ token, error, isRefreshing, expired }: ConnectionInput): Connection {
  if (token && !error) {
    return isRefreshing
      ? { label: 'Refreshing', tone: 'busy', detail: 'Asking for the next token; the current one still works.' }
      : { label: 'Connected', tone: 'ok', detail: 'The video call has a valid token.' };
  }
  if (token && error) return { label: 'Renewal failing', tone: 'warn', detail: 'The current token still works until it expires.' };
  if (error) {
    const detail = expired ? 'The token expired and renewing it fails: the call cannot join.' : 'No valid token: the call cannot join.';
    return { label: 'Disconnected', tone: 'bad', detail };
  }
  if (expired) return { label: 'Renewing', tone: 'busy', detail: 'The token expired; asking for a new one…' };
  return { label: 'Connecting', tone: 'busy', detail: 'Getting a token for this room…' };
}

interface RetryProps {
  retryAt: number | undefined;
  isRefreshing: boolean;
  now: number;
}

/** When the provider tries again after a failure, from its `retryAt`. */
function nextRetry({ retryAt, isRefreshing, now }: RetryProps): string {
  if (isRefreshing) return 'Retrying now…';
  if (retryAt === undefined) return 'Not retried on its own: this needs a fix, not a wait.';
  return `Next retry in ${formatDuration(retryAt - now)}`;
}

function ErrorPanel({ error, onRetry, retry }: { error: CasTokenError; onRetry: () => void; retry: RetryProps }) {
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
        <span className="muted" data-testid="next-retry">
          {nextRetry(retry)}
        </span>
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
  retry: RetryProps | undefined;
}

function Countdown({ refreshAt, expiresAt, receivedAt, now, retry }: CountdownProps) {
  const finite = Number.isFinite(expiresAt);
  const span = finite ? expiresAt - receivedAt : 1;
  const used = finite ? Math.min(1, Math.max(0, (now - receivedAt) / span)) : 0;
  const mark = finite ? Math.min(1, Math.max(0, (refreshAt - receivedAt) / span)) : 1;
  let figure = refreshAt <= now ? 'now' : formatDuration(refreshAt - now);
  if (retry) figure = retry.isRefreshing ? 'now' : retry.retryAt === undefined ? 'not planned' : formatDuration(retry.retryAt - now);
  return (
    <div className="countdown">
      <div className="countdown-figures">
        <div>
          <span className="figure-label">{retry ? 'Next retry in' : 'Next refresh in'}</span>
          <span className="figure" data-testid="refresh-countdown">
            {figure}
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

/** What the room shows while it holds no token: why, and what happens next. */
function NoToken({ error, expired, retry }: { error: CasTokenError | null; expired: StreamTokenInfo | undefined; retry: RetryProps }) {
  const since = expired ? `The token expired at ${formatClock(expired.expiresAt)}` : 'No token yet';
  let text = 'Waiting for the first token…';
  if (error) text = `${since}. ${nextRetry(retry)}`;
  else if (expired) text = `${since}; renewing…`;
  return (
    <div className="countdown placeholder" data-testid="no-token">
      {text}
    </div>
  );
}

/** One room of the watch party: everything here reads the token through `useStreamToken`. */
export function WatchRoom({ room }: { room: (typeof ROOMS)[number] }) {
  const { token, info, status, error, retryAt, isRefreshing, refresh } = useStreamToken();
  const now = useNow();
  // The last token this room held, to tell a renewal after expiry from the first request.
  const [last, setLast] = useState<{ room: string; info: StreamTokenInfo }>();
  if (info && last?.info !== info) setLast({ room: room.id, info });
  const expired = !info && last?.room === room.id ? last.info : undefined;
  const connection = connectionOf({ token, error, isRefreshing, expired: expired !== undefined });
  const retry = { retryAt, isRefreshing, now };
  // refresh() never rejects: a failure shows in `error` and the panel.
  const refreshNow = () => void refresh();
  // Times on the local clock come from `info`; the raw `iat`/`exp` are the issuer's clock.
  const { rid, unct, ...otherClaims } = info?.claims ?? {};

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

      {error && <ErrorPanel error={error} onRetry={refreshNow} retry={retry} />}

      {info && token ? (
        <Countdown
          refreshAt={info.refreshAt}
          expiresAt={info.expiresAt}
          receivedAt={info.receivedAt}
          now={now}
          retry={error ? retry : undefined}
        />
      ) : (
        <NoToken error={error} expired={expired} retry={retry} />
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
          <dd data-testid="issued">{formatClock(info?.issuedAt)}</dd>
          <dt>expires</dt>
          <dd data-testid="expires">{formatClock(info?.expiresAt)}</dd>
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
