import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect } from 'storybook/test';
import { casTokenParameters, withCasToken } from 'react-cas-token/testing';
import { CallBadge } from './CallBadge';

const meta = {
  title: 'CallBadge',
  component: CallBadge,
  args: { name: 'Movie night' },
  decorators: [withCasToken({ room: 'movie-night-42', lifetimeMs: 60_000, latencyMs: 300 })],
} satisfies Meta<typeof CallBadge>;
export default meta;

type Story = StoryObj<typeof meta>;

export const Live: Story = {
  play: async ({ canvas }) => {
    await expect(await canvas.findByText('Live · token 1')).toBeVisible();
  },
};

/** The first token has 3 s left: renewed after 1.5 s, with no gap. */
export const Renewing: Story = {
  parameters: casTokenParameters({ firstTokenExpiresInMs: 3_000 }),
  play: async ({ canvas }) => {
    await canvas.findByText('Live · token 1');
    await expect(await canvas.findByText('Live · token 2', {}, { timeout: 5_000 })).toBeVisible();
  },
};

/** A proxy that never answers. */
export const Pending: Story = {
  parameters: casTokenParameters({ latencyMs: Infinity }),
  play: async ({ canvas }) => {
    await expect(canvas.getByText('Connecting…')).toBeVisible();
  },
};

export const Unauthorized: Story = {
  parameters: casTokenParameters({ failures: () => 'unauthorized' }),
  play: async ({ canvas }) => {
    await expect(await canvas.findByText('Signed out: sign in to join')).toBeVisible();
  },
};

/** The first request fails; the retry, a second later, succeeds. Every visit starts afresh. */
export const RecoversFromNetworkError: Story = {
  parameters: casTokenParameters({ failures: { 1: 'network' }, retryDelay: 1_000 }),
  play: async ({ canvas }) => {
    await canvas.findByText('Reconnecting… (network)');
    await expect(await canvas.findByText('Live · token 1', {}, { timeout: 3_000 })).toBeVisible();
  },
};
