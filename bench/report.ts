import { appendFileSync } from 'node:fs';

/** One printed line of `npm run bench`: a figure, and what it is compared against. */
export interface Figure {
  /** Which section of the report the line belongs to. */
  section: 'requests' | 'tabs' | 'renders' | 'proxy' | 'attack' | 'store' | 'instances' | 'faults' | 'size' | 'memory';
  /** What was measured, e.g. "requests per token lifetime, 50 consumers". */
  label: string;
  value: string;
  /** The goal or baseline it is measured against. */
  against: string;
  /** Whether the figure meets its goal; omitted when the figure has no pass/fail goal. */
  ok?: boolean;
}

/**
 * Hands a figure to bench/run.mjs, which prints them all at the end. Files under vitest cannot
 * print cleanly (the reporter owns the terminal), so they append JSON lines to a file instead.
 */
export function report(figure: Figure): void {
  const file = process.env.BENCH_RESULTS;
  if (!file) throw new Error('BENCH_RESULTS is not set: run the benchmarks with `npm run bench`.');
  appendFileSync(file, `${JSON.stringify(figure)}\n`);
}
