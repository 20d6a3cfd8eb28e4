import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findChromium, launchChromium, SYSTEM_PATHS } from './support/chromium';

describe('finding Chromium for the browser tests', () => {
  it('takes CHROMIUM_PATH first', async () => {
    const found = await findChromium({ CHROMIUM_PATH: process.execPath });

    expect(found).toEqual({ executablePath: process.execPath, source: 'CHROMIUM_PATH' });
  });

  it('fails naming CHROMIUM_PATH when it points at nothing, rather than falling back', async () => {
    await expect(findChromium({ CHROMIUM_PATH: '/nowhere/chromium' })).rejects.toThrow('CHROMIUM_PATH names /nowhere/chromium');
  });

  it('uses a system Chromium when there is one, else the one shipped in @sparticuz/chromium', async () => {
    const system = SYSTEM_PATHS.find((path) => existsSync(path));

    const found = await findChromium({});

    if (system) expect(found).toEqual({ executablePath: system, source: 'system' });
    else expect(found.source).toBe('@sparticuz/chromium');
    expect(existsSync(found.executablePath)).toBe(true);
  });

  it('starts it headless and renders a page', async () => {
    const browser = await launchChromium();
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.setContent('<h1 id="hello">Hello</h1>');

      expect(await page.textContent('#hello')).toBe('Hello');
      expect(await page.evaluate(() => navigator.userAgent)).toMatch(/HeadlessChrome\/\d+/);
    } finally {
      await browser.close();
    }
  });
});
