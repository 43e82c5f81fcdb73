import { get } from "node:http";
import { get as httpsGet } from "node:https";
import type { IncomingMessage } from "node:http";

/**
 * GET: the status and the whole body as text. Over HTTPS the server's certificate is not
 * verified (vakt's own CA, as a probe sees it).
 */
export function getText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const answer = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
    };
    (url.startsWith("https:") ? httpsGet(url, { rejectUnauthorized: false }, answer) : get(url, answer)).on(
      "error",
      reject,
    );
  });
}
