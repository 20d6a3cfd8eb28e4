// What the quickstart leaves to the app: here, whoever the test signs in; staff rooms are for staff only.
let user: string | null = null;

export function signIn(name: string | null): void {
  user = name;
}

export async function getUser(_request: Request): Promise<string | null> {
  return user;
}

export async function mayJoin(name: string, room: string): Promise<boolean> {
  return !room.startsWith('staff-') || name.startsWith('staff.');
}
