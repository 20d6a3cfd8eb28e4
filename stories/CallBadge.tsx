import { useState } from 'react';
import { useStreamToken } from 'react-cas-token';

/** How many different tokens the component has held: 2 after the first renewal. */
function useTokenCount(token: string | undefined): number {
  const [seen, setSeen] = useState<{ last: string | undefined; count: number }>({ last: undefined, count: 0 });
  if (token !== undefined && token !== seen.last) setSeen({ last: token, count: seen.count + 1 });
  return token !== undefined && token !== seen.last ? seen.count + 1 : seen.count;
}

/**
 * The badge of a watch-party call: whether it can join, as a person reads it. A component an app
 * would write, which the stories show in every state of its token.
 */
export function CallBadge({ name }: { name: string }) {
  const { token, error, retryAt } = useStreamToken();
  const tokens = useTokenCount(token);

  let label: string;
  let tone: 'live' | 'waiting' | 'problem';
  if (token) {
    label = error ? 'Live · renewal failing' : `Live · token ${tokens}`;
    tone = error ? 'problem' : 'live';
  } else if (!error) {
    label = 'Connecting…';
    tone = 'waiting';
  } else if (error.code === 'unauthorized') {
    label = 'Signed out: sign in to join';
    tone = 'problem';
  } else if (retryAt !== undefined) {
    label = `Reconnecting… (${error.code})`;
    tone = 'waiting';
  } else {
    label = `Cannot join (${error.code})`;
    tone = 'problem';
  }

  return (
    <p role="status" aria-label={name} data-tone={tone} data-token={token ?? ''} style={{ fontFamily: 'system-ui', fontSize: 18 }}>
      <strong>{name}</strong> {label}
    </p>
  );
}
