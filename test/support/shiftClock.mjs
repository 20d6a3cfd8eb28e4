// A machine whose clock is off, for one Node process: `node --import ./shiftClock.mjs` with
// CLOCK_OFFSET_MS (e.g. 300000 for 5 minutes ahead, -300000 behind) moves `Date.now()` and
// `new Date()` by that much. Timers and `performance.now()` keep running at the real pace, as
// on a machine whose wall clock was set wrong. Node's own internals keep the real clock (its
// HTTP `Date` header among them): a server that states its time must read `Date` itself.
const offsetMs = Number(process.env.CLOCK_OFFSET_MS ?? '0');
if (!Number.isFinite(offsetMs)) throw new Error(`CLOCK_OFFSET_MS must be a number of ms; got ${process.env.CLOCK_OFFSET_MS}.`);

const RealDate = globalThis.Date;

class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }

  static now() {
    return RealDate.now() + offsetMs;
  }
}

// Called without `new`, Date gives the current time as a string.
globalThis.Date = new Proxy(ShiftedDate, {
  apply: () => new ShiftedDate().toString(),
});
