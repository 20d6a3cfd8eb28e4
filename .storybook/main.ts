import type { StorybookConfig } from '@storybook/react-vite';

const config: StorybookConfig = {
  stories: ['../stories/*.stories.tsx'],
  addons: ['msw-storybook-addon'],
  framework: {
    name: '@storybook/react-vite',
    // Not the repository's vite.config.ts: that one builds the library.
    options: { builder: { viteConfigPath: '.storybook/vite.config.ts' } },
  },
  core: { disableTelemetry: true },
  // mockServiceWorker.js, written there by `msw init` before each build (git-ignored).
  staticDirs: ['./public'],
};

export default config;
