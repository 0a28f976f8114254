/**
 * A ticket's markdown as HTML, rendered off the server's thread within a
 * time limit. The markdown parser's time grows faster than its input on
 * some text (`*a_` repeated: 32 KB took ~13 s, 64 KB ~54 s here), and on the
 * server's one thread that froze every page, decision and live update for
 * every user. A render over {@link RENDER_MS} is stopped (its worker is
 * ended, a new one starts for the next) and the ticket shows as plain,
 * escaped text, saying why; so does one that fails (nesting deep enough to
 * overflow the stack). Renders run one at a time, and the limit is each
 * request's: one that waited for others past it gets the text at once.
 * Results are kept for the same text, so the live page's refreshes do not
 * render it again; one that ran out of time is kept for a minute only (a
 * busy moment is not held against a ticket for long).
 *
 * @module
 */
import { esc } from "./markdown_html.ts";

/** The longest a render may take (ms). */
export const RENDER_MS = 1_500;
/** How many rendered texts are kept. */
const KEPT = 64;
/** How long a text that ran out of time is shown as text before it is tried again (ms). */
const RETRY_AFTER_MS = 60_000;

/** Renders ticket markdown in a worker, one text at a time. */
export class MarkdownRenderer {
  #worker: Worker | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #kept = new Map<string, { html: string; until: number }>();
  #closed = false;

  /**
   * The HTML of a ticket's markdown, or its text escaped in a `<pre>` when
   * it could not be rendered in time.
   * @param text the markdown
   * @returns HTML safe to insert into a page
   */
  render(text: string): Promise<string> {
    const kept = this.#kept.get(text);
    if (kept !== undefined && kept.until > Date.now()) {
      this.#kept.delete(text); // the most recently used goes last
      this.#kept.set(text, kept);
      return Promise.resolve(kept.html);
    }
    const deadline = Date.now() + RENDER_MS;
    const run = this.#queue.then(() => this.#renderNow(text, deadline));
    this.#queue = run.catch(() => {});
    return run.then(({ html, keepMs }) => {
      if (keepMs > 0) {
        this.#kept.delete(text);
        this.#kept.set(text, { html, until: Date.now() + keepMs });
        if (this.#kept.size > KEPT) this.#kept.delete(this.#kept.keys().next().value!);
      }
      return html;
    });
  }

  /** Ends the worker (the dashboard stops). */
  close(): void {
    this.#closed = true;
    this.#worker?.terminate();
    this.#worker = null;
  }

  /** The HTML, and how long it may be kept (0: not at all). */
  #renderNow(text: string, deadline: number): Promise<{ html: string; keepMs: number }> {
    const left = deadline - Date.now();
    if (this.#closed) return Promise.resolve({ html: asText(text, "was not rendered (stopping)"), keepMs: 0 });
    if (left <= 0) return Promise.resolve({ html: asText(text, "waited for other tickets' renders"), keepMs: 0 });
    const w = this.#worker ??= new Worker(new URL("./markdown_worker.ts", import.meta.url), { type: "module" });
    return new Promise((resolve) => {
      const done = (html: string, end: boolean, keepMs: number) => {
        clearTimeout(timer);
        w.onmessage = null;
        w.onerror = null;
        if (end) {
          w.terminate();
          if (this.#worker === w) this.#worker = null;
        }
        resolve({ html, keepMs });
      };
      const timer = setTimeout(
        () => done(asText(text, `took longer than ${RENDER_MS / 1000} s to render`), true, RETRY_AFTER_MS),
        left,
      );
      w.onmessage = (e: MessageEvent<{ html: string | null }>) =>
        done(e.data.html ?? asText(text, "could not be rendered"), false, Infinity);
      w.onerror = (e) => {
        e.preventDefault();
        done(asText(text, "could not be rendered"), true, Infinity);
      };
      w.postMessage({ text });
    });
  }
}

/** The text as it is, escaped, with the reason it is not rendered. */
function asText(text: string, why: string): string {
  return `<p class="markdown-as-text">Shown as plain text: its markdown ${esc(why)}.</p><pre>${esc(text)}</pre>`;
}
