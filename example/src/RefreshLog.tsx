import type { CasTokenErrorCode } from 'react-cas-token';
import { formatClock, shortToken } from './format';

export type LogEvent =
  | { kind: 'first' | 'renewed' | 'same'; room: string; at: number; token: string; expiresAt: number }
  | { kind: 'error'; room: string; at: number; code: CasTokenErrorCode; message: string };

export type LogEntry = LogEvent & { id: number };

const LABEL = { first: 'First token', renewed: 'New token', same: 'Same token', error: 'Failed' } as const;

/** Every token the provider handed out (its `onToken`) and every failure (its `onError`). */
export function RefreshLog({ entries }: { entries: readonly LogEntry[] }) {
  return (
    <section className="card log" aria-labelledby="log-title">
      <h2 id="log-title">Refresh log</h2>
      {entries.length === 0 ? (
        <p className="muted">Waiting for the first token…</p>
      ) : (
        <ol className="log-list" data-testid="refresh-log">
          {entries.map((entry) => (
            <li key={entry.id} className={`log-entry log-${entry.kind}`}>
              <span className="log-time">{formatClock(entry.at)}</span>
              <span className="log-kind">{LABEL[entry.kind]}</span>
              <span className="log-room">{entry.room}</span>
              {entry.kind === 'error' ? (
                <span className="log-detail" title={entry.message}>
                  {entry.code}
                </span>
              ) : (
                <code className="log-detail" title={entry.token}>
                  {shortToken(entry.token)}
                </code>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
