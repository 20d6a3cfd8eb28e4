import { ROOMS, type RoomId } from './rooms';

export function RoomPicker({ room, onChange }: { room: RoomId; onChange: (room: RoomId) => void }) {
  return (
    <nav className="rooms" aria-label="Rooms">
      {ROOMS.map((candidate) => (
        <button
          key={candidate.id}
          type="button"
          className="room-chip"
          aria-pressed={candidate.id === room}
          onClick={() => onChange(candidate.id)}
        >
          <span className="room-chip-title">{candidate.title}</span>
          <span className="room-chip-id">{candidate.id}</span>
        </button>
      ))}
    </nav>
  );
}
