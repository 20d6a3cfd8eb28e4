import type { WithCasTokenOptions } from './withCasToken.js';

/**
 * Writes a story's `parameters.casToken` for `withCasToken`, typed: a misspelt option
 * (`latencyMS`) or failure (`'unauthorised'`) fails to compile, where a bare
 * `parameters: { casToken: { ... } }` is not checked by Storybook's types.
 *
 * @example
 * ```tsx
 * export const Pending: Story = { parameters: casTokenParameters({ latencyMs: Infinity }) };
 * export const SignedOut: Story = {
 *   parameters: { layout: 'centered', ...casTokenParameters({ failures: () => 'unauthorized' }) },
 * };
 * ```
 */
export function casTokenParameters(options: WithCasTokenOptions): { casToken: WithCasTokenOptions } {
  return { casToken: options };
}
