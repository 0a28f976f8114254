/**
 * The HTML shell of each page: navigation, the page's data inlined (so the
 * first paint needs no second request), and the client script that renders
 * it and keeps it live.
 *
 * @module
 */
import { esc } from "./markdown_html.ts";

/** The pages, in the navigation's order. */
export const PAGES = [
  { page: "board", path: "/", title: "Board" },
  { page: "gates", path: "/gates", title: "Gates" },
  { page: "agents", path: "/agents", title: "Agents" },
  { page: "merge", path: "/merge", title: "Merge" },
  { page: "metrics", path: "/metrics", title: "Metrics" },
] as const;

/**
 * One page.
 * @param page which page (board, ticket, gates, agents, merge, metrics)
 * @param title the window title
 * @param data what the page shows (inlined as JSON)
 * @param csrf the server's CSRF token (for the page's own changes)
 * @returns the HTML
 */
export function pageHtml(page: string, title: string, data: unknown, csrf: string): string {
  const nav = PAGES.map((p) => `<a href="${p.path}"${p.page === page ? ' aria-current="page"' : ""}>${p.title}</a>`)
    .join("");
  // Inlined JSON: "<" escaped, so no "</script>" inside the data can end the element.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const charts = page === "metrics"
    ? '<link rel="stylesheet" href="/assets/uPlot.min.css"><script src="/assets/uPlot.iife.min.js"></script>'
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${esc(csrf)}">
<title>${esc(title)} · Baton</title>
<link rel="stylesheet" href="/assets/style.css">${charts}
</head>
<body data-page="${esc(page)}">
<a class="skip" href="#main">Skip to content</a>
<header>
<strong class="brand">Baton</strong>
<nav aria-label="Pages">${nav}</nav>
<span id="live" role="status" aria-live="polite">connecting…</span>
</header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<script type="application/json" id="page-data">${json}</script>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;
}
