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
