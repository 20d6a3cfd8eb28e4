// What the quickstart leaves to the app: the video SDK's component, here showing the token it is given.
export function VideoCall({ token }: { token: string }) {
  return <p data-testid="video-call">{token}</p>;
}
