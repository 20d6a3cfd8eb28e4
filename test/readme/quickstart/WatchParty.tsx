// WatchParty.tsx
'use client'; // the provider and the hooks run in the browser

import { CasTokenProvider, createProxyFetcher, useStreamToken } from 'react-cas-token';
import { VideoCall } from './VideoCall'; // your video SDK's component

const fetcher = createProxyFetcher('/api/cas-token');

export function WatchParty({ room }: { room: string }) {
  return (
    <CasTokenProvider fetcher={fetcher} room={room}>
      <Video />
    </CasTokenProvider>
  );
}

function Video() {
  const { token, status, error } = useStreamToken();
  if (token) return <VideoCall token={token} />; // always an unexpired token
  if (status === 'error') return <p>Cannot join: {error.message}</p>;
  return <p>Connecting…</p>;
}
