/**
 * The thread behind {@link MarkdownRenderer} (`markdown_render.ts`): renders
 * one ticket's markdown at a time, off the server's thread; a render that
 * throws (nesting deep enough to overflow the stack) answers null.
 *
 * @module
 */
import { markdownToHtml } from "./markdown_html.ts";

addEventListener("message", (e) => {
  let html: string | null;
  try {
    html = markdownToHtml((e as MessageEvent<{ text: string }>).data.text);
  } catch {
    html = null;
  }
  (globalThis as unknown as { postMessage(m: unknown): void }).postMessage({ html });
});
