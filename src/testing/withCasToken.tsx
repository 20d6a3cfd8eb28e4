import type { ComponentType, ReactElement } from 'react';
import { MockCasTokenProvider, type MockCasTokenProviderProps } from './MockCasTokenProvider.js';

/** What `withCasToken` takes: the `MockCasTokenProvider` props, without children. */
export type WithCasTokenOptions = Omit<MockCasTokenProviderProps, 'children'>;

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
 * A Storybook decorator that renders the story inside a `MockCasTokenProvider`. A story's
 * `parameters.casToken` is merged over the options, so one story can fail or change room.
 *
 * @example
 * ```tsx
 * // WatchParty.stories.tsx
 * export default { component: WatchParty, decorators: [withCasToken({ room: 'movie-night-42' })] };
 * export const Connected = {};
 * export const ProxyDown = { parameters: { casToken: { failures: () => 'network' } } };
 * ```
 */
export function withCasToken(options: WithCasTokenOptions = {}): CasTokenDecorator {
  return function CasTokenDecorator(Story, context) {
    const props = { ...options, ...context?.parameters?.casToken };
    // A new room, or new story parameters, gets a new provider: stories never share a token.
    return (
      <MockCasTokenProvider key={props.room ?? ''} {...props}>
        <Story />
      </MockCasTokenProvider>
    );
  };
}
