/**
 * The dashboard's assets ship inside the module (issue 17): the generated
 * `src/serve/assets.gen.ts` is what `scripts/gen_assets.ts` makes of
 * `src/serve/assets/` now, and the markdown renderer never lets a ticket's
 * HTML through.
 */
import assert from "node:assert/strict";
import { generate } from "../../scripts/gen_assets.ts";
import { markdownToHtml } from "../../src/serve/markdown_html.ts";

Deno.test("assets: src/serve/assets.gen.ts is current (run 'deno task assets' after editing src/serve/assets/)", () => {
  const now = Deno.readTextFileSync(new URL("../../src/serve/assets.gen.ts", import.meta.url));
  assert.ok(now === generate(), "assets.gen.ts is out of date: run 'deno task assets'");
});

Deno.test("markdown for the Ticket page: raw HTML and script links stay inert", () => {
  const html = markdownToHtml(
    '# T\n\n<img src=x onerror="alert(1)">\n\n[click](javascript:alert(1)) [ok](https://example.com "t")\n\n- [x] done\n',
  );
  assert.doesNotMatch(html, /<img|<script|href="javascript/);
  assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
  assert.match(html, /<a href="https:\/\/example.com" rel="noopener noreferrer">ok<\/a>/);
  assert.match(html, /<input type="checkbox" disabled checked aria-label="done"> done/);
});

/** Every href in `html`, unescaped, as the browser would resolve it on a dashboard page. */
function hrefs(html: string): URL[] {
  const un = (s: string) =>
    s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => new URL(un(m[1]), "http://127.0.0.1:8400/ticket/0001"));
}

Deno.test("markdown links: no spelling of javascript: (tabs, newlines, entities, control characters) becomes an href (issue 26, item 9)", () => {
  const known = [
    "[a](<java\tscript:alert(1)>)",
    "[a](java&#10;script:alert(1))",
    "[a](<\x01javascript:alert(1)>)",
    "[a](java&#9;script:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](<  javascript:alert(1)>)",
    "[a](data:text/html,<script>alert(1)</script>)",
    "[a](vbscript:msgbox)",
    "[a]: java&#x0A;script:alert(1)\n\n[a]",
  ];
  // And a property: a tab, newline, CR, NUL or other control character (raw or as a character reference) at every
  // position of "javascript:", and C0/space before it.
  const generated: string[] = [];
  const scheme = "javascript:";
  for (let i = 0; i <= scheme.length; i++) {
    for (const c of ["\t", "\n", "\r", "\x00", "\x01", "\x1f", " "]) {
      const raw = scheme.slice(0, i) + c + scheme.slice(i);
      generated.push(`[x](<${raw}alert(1)>)`);
      generated.push(`[x](${scheme.slice(0, i)}&#${c.charCodeAt(0)};${scheme.slice(i)}alert(1))`);
      generated.push(`[x](${scheme.slice(0, i)}&#x${c.charCodeAt(0).toString(16)};${scheme.slice(i)}alert(1))`);
    }
  }
  for (const md of [...known, ...generated]) {
    const html = markdownToHtml(md + "\n");
    for (const u of hrefs(html)) {
      assert.ok(["http:", "https:", "mailto:"].includes(u.protocol), `${JSON.stringify(md)} gave href ${u.href}`);
    }
  }
  // What is allowed still links.
  const ok = markdownToHtml("[w](https://example.com/a?b=1) [m](mailto:x@example.com) [r](../docs/a.md) [q](#top)\n");
  assert.equal(hrefs(ok).length, 4, ok);
});
