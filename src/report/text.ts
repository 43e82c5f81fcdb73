/**
 * Text from the evidence history goes into reports an auditor reads: object names, messages and
 * justifications come from the cluster and may hold markup, control characters or megabytes.
 * These helpers bound and clean it once, for every renderer.
 */

/** Longest text kept for a message or a justification; names are shorter (Kubernetes caps them at 253). */
export const MAX_TEXT = 2000;
export const MAX_NAME = 300;

/**
 * `text` well formed (lone surrogates → U+FFFD), with control characters other than tab and line
 * break shown as `\u{..}` so they are visible and never reach a terminal or a PDF raw, and cut
 * to `max` characters with the number left out said.
 */
export function clean(text: string, max: number = MAX_TEXT): string {
  const whole = text.length > max ? text.slice(0, max) : text;
  const shown = whole.toWellFormed().replace(
    // eslint-disable-next-line no-control-regex -- showing control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u{${c.charCodeAt(0).toString(16)}}`,
  );
  return text.length > max ? `${shown}… (${text.length - max} more characters)` : shown;
}

/** One line: `clean`, with line breaks and tabs folded to spaces and the ends trimmed. */
export function cleanLine(text: string, max: number = MAX_TEXT): string {
  return clean(text, max).replace(/\s+/g, " ").trim();
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** `clean` then `escapeHtml`: what every piece of recorded text goes through on its way into the page. */
export function html(text: string, max: number = MAX_TEXT): string {
  return escapeHtml(clean(text, max));
}
