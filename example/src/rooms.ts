/** The watch-party rooms the demo offers. Each room is one CAS session, so one token. */
export const ROOMS = [
  { id: 'movie-night-42', title: 'Movie night', subtitle: 'The Third Man (1949)' },
  { id: 'anime-club', title: 'Anime club', subtitle: 'Episode 7, subbed' },
  { id: 'match-day', title: 'Match day', subtitle: 'Second half, live' },
] as const;

export type RoomId = (typeof ROOMS)[number]['id'];

/** The room a link names (`?room=anime-club`: one to send the rest of the party), else the first. */
export function roomFromUrl(search: string): RoomId {
  const named = new URLSearchParams(search).get('room');
  return ROOMS.find((room) => room.id === named)?.id ?? ROOMS[0].id;
}
