// casToken.ts: on your server
import { casTokenHandlerFromEnv } from 'react-cas-token/server';
import { getUser, mayJoin } from './auth'; // your app's own session and room checks

export const casToken = casTokenHandlerFromEnv({
  authorize: async (request, { room }) => {
    const user = await getUser(request);
    if (!user) return false; // 401: not signed in
    return (await mayJoin(user, room)) ? true : 'forbidden'; // 403: not this room
  },
});
