import type { ReactElement } from 'react';
import { describe, expectTypeOf, it } from 'vitest';
import { withCasToken, type CasTokenDecorator } from 'react-cas-token/testing';

// The shape of Storybook's React `Decorator` (storybook 8-10), written out so the package needs
// no Storybook dependency to prove it fits.
type StoryContextUpdate = { args?: Record<string, unknown>; globals?: Record<string, unknown>; [key: string]: unknown };
type PartialStoryFn = (update?: StoryContextUpdate) => ReactElement<unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type StoryContext = { id: string; args: Record<string, unknown>; parameters: { [name: string]: any } };
type StorybookDecorator = (fn: PartialStoryFn, context: StoryContext) => ReactElement<unknown>;

describe('withCasToken types', () => {
  it('is a Storybook decorator', () => {
    expectTypeOf(withCasToken()).toExtend<StorybookDecorator>();
    expectTypeOf(withCasToken({ room: 'r', lifetimeMs: 10_000 })).toEqualTypeOf<CasTokenDecorator>();
  });

  it('takes the mock provider options, and no children', () => {
    // @ts-expect-error children come from the story
    withCasToken({ children: null });
    // @ts-expect-error failures are CasTokenError codes
    withCasToken({ failures: { 1: 'teapot' } });
  });
});
