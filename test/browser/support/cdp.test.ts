import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumWithCdp, type ChromiumWithCdp } from './cdp';
import { decodeFrames, encodeFrame } from './webSocket';

describe('the WebSocket frames the DevTools connection reads and writes', () => {
  it('reads back what it writes, at each length encoding, masked', () => {
    for (const size of [0, 125, 126, 65_535, 65_536, 200_000]) {
      const payload = Buffer.alloc(size, 'x');
      const frame = encodeFrame(0x1, payload);

      const { frames, rest } = decodeFrames(frame);

      expect(frame[1]! & 0x80).toBe(0x80);
      expect(frames).toHaveLength(1);
      expect(frames[0]).toMatchObject({ fin: true, opcode: 0x1 });
      expect(frames[0]!.payload.equals(payload)).toBe(true);
      expect(rest.length).toBe(0);
    }
  });

  it('waits for the rest of a frame that arrived in part, and keeps the bytes after it', () => {
    const one = encodeFrame(0x1, Buffer.from('{"id":1}'));
    const two = encodeFrame(0x1, Buffer.alloc(70_000, 'y'));
    const stream = Buffer.concat([one, two]);

    const first = decodeFrames(stream.subarray(0, one.length + 5));
    const second = decodeFrames(Buffer.concat([first.rest, stream.subarray(one.length + 5)]));

    expect(first.frames.map((frame) => frame.payload.toString())).toEqual(['{"id":1}']);
    expect(first.rest.length).toBe(5);
    expect(second.frames.map((frame) => frame.payload.length)).toEqual([70_000]);
  });
});

describe('freezing a page through our own DevTools connection', () => {
  let chromium: ChromiumWithCdp;
  beforeAll(async () => {
    chromium = await launchChromiumWithCdp();
  });
  afterAll(async () => {
    await chromium?.close();
  });

  it('stops its timers while frozen, fires freeze and resume, and shows it again', async () => {
    const page = await chromium.context.newPage();
    await page.setContent('<p>frozen or not</p>');
    await page.evaluate(() => {
      const record = window as unknown as { ticks: number[]; events: string[] };
      record.ticks = [];
      record.events = [];
      setInterval(() => record.ticks.push(Date.now()), 50);
      for (const type of ['visibilitychange', 'freeze', 'resume']) {
        document.addEventListener(type, () => record.events.push(`${type}:${document.visibilityState}`));
      }
    });
    const lifecycle = await chromium.lifecycle(page);
    await page.waitForFunction(() => (window as unknown as { ticks: number[] }).ticks.length >= 3, null, { timeout: 5_000 });

    await lifecycle.freeze();
    const frozenAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const resumedAt = Date.now();
    await lifecycle.resume();
    await lifecycle.show();
    await page.waitForFunction(() => document.visibilityState === 'visible', null, { timeout: 5_000 });
    const { ticks, events } = await page.evaluate(() => {
      const record = window as unknown as { ticks: number[]; events: string[] };
      return { ticks: record.ticks, events: record.events };
    });

    // A running page ticks ~20 times a second; a frozen one not once (100 ms allowed for the command to land).
    expect(ticks.filter((at) => at > frozenAt + 100 && at < resumedAt)).toEqual([]);
    expect(ticks.filter((at) => at > resumedAt).length).toBeGreaterThan(0);
    expect(events.slice(0, 3)).toEqual(['visibilitychange:hidden', 'freeze:hidden', 'resume:hidden']);
    expect(events.at(-1)).toBe('visibilitychange:visible');
  });
});
