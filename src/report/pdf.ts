/**
 * The HTML report printed to PDF by a real headless Chromium (Debian's `chromium`, which
 * scripts/setup.sh installs), driven by playwright-core with an explicit executable: vakt never
 * downloads a browser. The page runs with JavaScript off and every network request refused, so
 * the printed content is the escaped HTML and nothing else.
 */
import { existsSync } from "node:fs";

/** Where Debian puts the browser binary; /usr/bin/chromium is a shell wrapper around it. */
export const CHROMIUM_CANDIDATES = [
  "/usr/lib/chromium/chromium",
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
];

export class PdfError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PdfError";
    this.hint = hint;
  }
}

/** The Chromium to run: `explicit` when given (it must exist), else the first Debian path present. */
export function findChromium(explicit: string | undefined): string {
  const path = explicit ?? CHROMIUM_CANDIDATES.find((candidate) => existsSync(candidate));
  if (path === undefined || !existsSync(path))
    throw new PdfError(
      explicit === undefined
        ? `no Chromium found (looked at ${CHROMIUM_CANDIDATES.join(", ")})`
        : `--chromium ${explicit} does not exist`,
      "install Debian's chromium (scripts/setup.sh does: apt-get install chromium), or pass --chromium <path to the browser binary>",
    );
  return path;
}

export async function printPdf(html: string, chromium: string): Promise<Buffer> {
  const { chromium: driver } = await import("playwright-core");
  let browser;
  try {
    browser = await driver.launch({
      executablePath: chromium,
      // Chromium's sandbox refuses to start as root (containers, CI); the page is our own escaped
      // HTML with scripts and network off, so the sandbox guards nothing the page can reach.
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
      timeout: 60_000,
    });
  } catch (error) {
    throw new PdfError(
      `Chromium at ${chromium} did not start: ${error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error)}`,
      "check that the browser runs (`chromium --headless --version`), or pass another one with --chromium",
      { cause: error },
    );
  }
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    await context.route("**/*", (route) => route.abort());
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: "load" });
    return await page.pdf({
      format: "A4",
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate:
        '<div style="font-size:8px;width:100%;text-align:center;color:#555">page <span class="pageNumber"></span> of <span class="totalPages"></span></div>',
      margin: { top: "14mm", bottom: "16mm", left: "12mm", right: "12mm" },
    });
  } finally {
    await browser.close();
  }
}
