/**
 * A ticket's markdown as HTML for the Ticket page. Everything is escaped:
 * raw HTML in a ticket shows as text, links keep only http(s), mailto and
 * relative targets, so a ticket cannot run script in a reviewer's browser.
 *
 * @module
 */
import { fromMarkdown } from "mdast-util-from-markdown";

// deno-lint-ignore no-explicit-any
type Node = any;

/**
 * Escapes text for HTML content and attributes.
 * @param s the text
 * @returns it, escaped
 */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The schemes a link in a ticket may use; a relative link resolves to the page's own (http) scheme. */
const ALLOWED_SCHEMES = new Set(["http:", "https:", "mailto:"]);

/**
 * A link target the browser will follow only to an allowed scheme, or null.
 * The scheme is read as the browser reads it (the URL parser drops tabs and
 * newlines anywhere, and control characters and spaces around it), so
 * `java\tscript:`, `java&#10;script:` and `\x01javascript:` are all
 * `javascript:` and refused. What remains is returned cleaned.
 * @param url the target as written (character references decoded)
 * @returns the target to put in `href`, or null
 */
export function safeHref(url: string): string | null {
  // deno-lint-ignore no-control-regex -- control characters are what the browser drops
  const cleaned = url.replace(/[\t\n\r]/g, "").replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "");
  // deno-lint-ignore no-control-regex -- and what must not reach an href
  if (/[\x00-\x1f\x7f]/.test(cleaned)) return null;
  let parsed: URL;
  try {
    parsed = new URL(cleaned, "http://relative.invalid/");
  } catch {
    return null;
  }
  return ALLOWED_SCHEMES.has(parsed.protocol) ? cleaned : null;
}

function kids(n: Node): string {
  return (n.children ?? []).map(render).join("");
}

function render(n: Node): string {
  switch (n.type) {
    case "root":
      return kids(n);
    case "heading":
      return `<h${Math.min(6, n.depth + 1)}>${kids(n)}</h${Math.min(6, n.depth + 1)}>`;
    case "paragraph":
      return `<p>${kids(n)}</p>`;
    case "text":
      return esc(n.value);
    case "emphasis":
      return `<em>${kids(n)}</em>`;
    case "strong":
      return `<strong>${kids(n)}</strong>`;
    case "delete":
      return `<del>${kids(n)}</del>`;
    case "inlineCode":
      return `<code>${esc(n.value)}</code>`;
    case "code":
      return `<pre><code>${esc(n.value)}</code></pre>`;
    case "blockquote":
      return `<blockquote>${kids(n)}</blockquote>`;
    case "thematicBreak":
      return "<hr>";
    case "break":
      return "<br>";
    case "list": {
      const tag = n.ordered ? "ol" : "ul";
      return `<${tag}>${kids(n)}</${tag}>`;
    }
    case "listItem": {
      // "[ ] x" / "[x] x" without the GFM extension: the paragraph's text starts with the box.
      let body = kids(n).replace(/^<p>/, "").replace(/<\/p>$/, "");
      const box = /^\[( |x|X)\] /.exec(body);
      if (box) {
        body = `<input type="checkbox" disabled${box[1] === " " ? "" : " checked"} aria-label="${
          box[1] === " " ? "not done" : "done"
        }"> ${body.slice(4)}`;
      }
      return `<li>${body}</li>`;
    }
    case "link": {
      const href = safeHref(n.url ?? "");
      return href === null ? kids(n) : `<a href="${esc(href)}" rel="noopener noreferrer">${kids(n)}</a>`;
    }
    case "image":
      return esc(n.alt ?? "");
    case "html":
      return `<code>${esc(n.value)}</code>`;
    default:
      return n.children ? kids(n) : esc(String(n.value ?? ""));
  }
}

/**
 * Renders markdown to escaped HTML.
 * @param text the markdown
 * @returns HTML safe to insert into a page
 */
export function markdownToHtml(text: string): string {
  return render(fromMarkdown(text));
}
