import type { ComponentType, ReactElement } from 'react';
import type { StreamTokenFetcher } from '../core/StreamTokenFetcher.js';
import { MockCasTokenProvider, type MockCasTokenProviderBaseProps } from './MockCasTokenProvider.js';

/**
 * The options of `withCasToken`, and of a story's `parameters.casToken`: the
 * `MockCasTokenProvider` props, without children, and with `createFetcher` rather than a
 * `fetcher` or `queryClient` object. A story's decorator runs again on every visit, so an object
 * made once at module scope would carry its calls and tokens from one visit to the next.
 */
export interface WithCasTokenOptions extends Omit<MockCasTokenProviderBaseProps, 'children' | 'queryClient'> {
  /**
   * Makes the fetcher each time the story mounts, e.g.
   * `() => createMockFetcher({ failures: { 1: 'network' } })`, or
   * `() => createProxyFetcher('/api/cas-token')` behind MSW. A mock fetcher made here still takes
   * the story's `lifetimeMs`, `latencyMs`, ... for every option it was not made with.
   */
  createFetcher?: () => StreamTokenFetcher;
}

/**
 * The parts of a Storybook story context that `withCasToken` reads. Typed by shape, so this
 * package needs no Storybook dependency and fits any Storybook version.
 */
export interface CasTokenStoryContext {
  parameters?: { casToken?: WithCasTokenOptions };
}

/** A Storybook decorator: `(Story, context) => element`. */
export type CasTokenDecorator = (Story: ComponentType, context?: CasTokenStoryContext) => ReactElement;

/**
 * A Storybook decorator that renders the story inside a `MockCasTokenProvider`.
 *
 * What merges: a story's `parameters.casToken` is spread over the decorator's options, key by
 * key. A key the story sets replaces the decorator's value as a whole (`failures` included); a
 * key it leaves out keeps the decorator's (a story's `failures` keeps the meta's `lifetimeMs`).
 * Write parameters with `casTokenParameters({ ... })` so a typo fails to compile.
 *
 * @example
 * ```tsx
 * // WatchParty.stories.tsx
 * export default { component: WatchParty, decorators: [withCasToken({ room: 'movie-night-42' })] };
 * export const Connected = {};
 * export const ProxyDown = { parameters: casTokenParameters({ failures: () => 'network' }) };
 * ```
 */
export function withCasToken(options: WithCasTokenOptions = {}): CasTokenDecorator {
  return function CasTokenDecorator(Story, context) {
    const props = { ...options, ...context?.parameters?.casToken };
    // A new room gets a new provider: stories never share a token.
    return (
      <MockCasTokenProvider key={props.room ?? ''} {...props}>
        <Story />
      </MockCasTokenProvider>
    );
  };
}
