import type { Meta, StoryContext, StoryObj } from '@storybook/react-vite';
import { http } from 'msw';
import type { MswApi } from 'msw-storybook-addon';
import { expect } from 'storybook/test';
import { createProxyFetcher } from 'react-cas-token';
import { casTokenParameters, createMockTokenProxy, withCasToken, type MockTokenProxyOptions } from 'react-cas-token/testing';
import { CallBadge } from './CallBadge';

/** Answers the app's real createProxyFetcher from a mock proxy made afresh for every visit. */
function tokenProxy(options: MockTokenProxyOptions = {}) {
  return ({ msw }: StoryContext & { msw: MswApi }) => {
    const proxy = createMockTokenProxy(options);
    msw.use(http.get('/api/cas-token', ({ request }) => proxy(request)));
  };
}

const meta = {
  title: 'CallBadge/Through MSW',
  component: CallBadge,
  args: { name: 'Movie night' },
  decorators: [withCasToken({ room: 'movie-night-42', createFetcher: () => createProxyFetcher('/api/cas-token') })],
} satisfies Meta<typeof CallBadge>;
export default meta;

type Story = StoryObj<typeof meta>;

export const Live: Story = {
  beforeEach: tokenProxy({ lifetimeMs: 60_000 }),
  play: async ({ canvas }) => {
    await expect(await canvas.findByText('Live · token 1')).toBeVisible();
  },
};

export const RecoversFromNetworkError: Story = {
  beforeEach: tokenProxy({ failures: { 1: 'network' } }),
  parameters: casTokenParameters({ retryDelay: 1_000 }),
  play: async ({ canvas }) => {
    await canvas.findByText('Reconnecting… (network)');
    await expect(await canvas.findByText('Live · token 1', {}, { timeout: 3_000 })).toBeVisible();
  },
};
