/** How much of an error's message a log line keeps. */
const MAX_LOG_MESSAGE = 300;
const MAX_CAUSE_DEPTH = 4;

function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret !== '') result = result.split(secret).join('[redacted]');
  return result;
}

/**
 * A copy of `error` (and of its `cause` chain) with each secret replaced by `[redacted]`: only
 * name, message and `code` are kept, so no header, option or stack quoting a secret survives.
 * Errors from `fetch` can quote a header value, and a custom `fetch` can throw anything.
 */
export function redactError(error: unknown, secrets: readonly string[], depth = 0): Error {
  const source = error instanceof Error ? error : undefined;
  const message = scrub(source === undefined ? String(error) : source.message, secrets);
  const cause = source?.cause;
  const copy = new Error(
    message,
    cause !== undefined && depth < MAX_CAUSE_DEPTH ? { cause: redactError(cause, secrets, depth + 1) } : undefined,
  );
  copy.name = scrub(source?.name ?? 'Error', secrets);
  const code = (source as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' || typeof code === 'number') (copy as Error & { code?: unknown }).code = code;
  return copy;
}

/**
 * `text` made safe for one log line: secrets redacted, line breaks and other control
 * characters escaped (a message can carry user input: no forged log lines), cut to `maxLength`
 * characters (300 unless told).
 */
export function logSafe(text: string, secrets: readonly string[], maxLength = MAX_LOG_MESSAGE): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = scrub(text, secrets).replace(/[\u0000-\u001f\u007f]/g, (char) => JSON.stringify(char).slice(1, -1));
  return oneLine.length > maxLength ? `${oneLine.slice(0, maxLength)}…` : oneLine;
}

/** One log line's worth of `error`: `Name: message`, made safe by `logSafe`. */
export function describeError(error: unknown, secrets: readonly string[]): string {
  return logSafe(error instanceof Error ? `${error.name}: ${error.message}` : `thrown value: ${String(error)}`, secrets);
}
