import type { ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { vi } from 'vitest';

/** Mounts a tree with React's own root (no act(): see fakeClock.ts) and lets it settle. */
export async function mount(tree: ReactNode): Promise<{ unmount(): Promise<void> }> {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  root.render(tree);
  await vi.advanceTimersByTimeAsync(0);
  return {
    async unmount() {
      root.unmount();
      container.remove();
      await vi.advanceTimersByTimeAsync(0);
    },
  };
}

/** Moves the fake clock in steps, so timers and renders interleave as they would in a browser. */
export async function advance(totalMs: number, stepMs = 60_000): Promise<void> {
  for (let done = 0; done < totalMs; done += stepMs) {
    await vi.advanceTimersByTimeAsync(Math.min(stepMs, totalMs - done));
  }
}
