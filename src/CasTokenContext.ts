import { createContext, useContext } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { CasTokenError } from './core/CasTokenError.js';
import type { TokenScheduler } from './createTokenScheduler.js';

export interface CasTokenContextValue {
  queryClient: QueryClient;
  scheduler: TokenScheduler;
}

export const CasTokenContext = createContext<CasTokenContextValue | null>(null);

/** The provider's state, or an error that names the missing provider. */
export function useCasTokenContext(hookName: string): CasTokenContextValue {
  const value = useContext(CasTokenContext);
  if (!value) {
    throw new CasTokenError('invalid-config', `${hookName} must be used inside <CasTokenProvider>: wrap the video component in one.`);
  }
  return value;
}
