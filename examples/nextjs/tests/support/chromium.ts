// Debian's chromium, driven by puppeteer-core: no browser download. Missing chromium is a
// failure with the command that fixes it, never a skip (.ci/run installs it).
import { existsSync } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
  }
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root has no user namespace sandbox here; /dev/shm is small in containers.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--font-render-hinting=none"],
  });
}
