// deno-lint-ignore-file no-window require-await -- browser code: window is the page's
// Baton's dashboard, in the browser: renders the page's data (inlined by the
// server, then fetched again from /api/ whenever the event stream says
// something changed), and sends gate decisions. Plain DOM; charts by uPlot.
"use strict";

const page = document.body.dataset.page;
const main = document.getElementById("main");
const live = document.getElementById("live");
/** The server's CSRF token: from the page, then from each event stream's hello (a restarted server has a new one). */
let csrf = document.querySelector('meta[name="csrf-token"]').content;
let data = JSON.parse(document.getElementById("page-data").textContent);
const state = {
  groupBy: localStorage.getItem("baton.groupBy") || "phase",
  showEmpty: localStorage.getItem("baton.showEmpty") === "1",
  /** Columns the user opened in full although the window is too narrow for every column in full. */
  pinned: new Set(),
  filters: { priority: "", component: "", agentType: "", state: "" },
  renders: 0,
  /**
   * The Gates page's rows in the order first shown, each gate as last seen: a gate decided meanwhile keeps its
   * place (disabled, saying so) and a new one goes last, so a live update never moves a button under the pointer.
   */
  gates: new Map(),
  /** What each gate's last decision attempt said (kept across live updates). */
  gateSaid: new Map(),
  /** Gates whose decision is on its way: their buttons stay disabled (a double click sends one decision). */
  sending: new Set(),
};
window.baton = { charts: {}, state };

// ---------- helpers ----------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "html") el.innerHTML = v; // only for server-escaped markdown
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function dur(ms) {
  if (ms === null || ms === undefined) return "–";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${m % 60}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}
function kb(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
function time(ms) {
  return ms ? new Date(ms).toLocaleString() : "–";
}
const label = (s) => String(s).replace(/_/g, " ");
function section(title, ...body) {
  return h("section", { "aria-label": title }, h("h2", {}, title), ...body);
}
function table(caption, headers, rows, empty = "none") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "table",
    {},
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
  );
}
function ticketLink(id, text) {
  return h("a", { href: `/ticket/${encodeURIComponent(id)}` }, text ?? id);
}

// ---------- board ----------
const STATE_ORDER = [
  "available",
  "claimed",
  "running",
  "awaiting_review",
  "waiting_retry",
  "blocked",
  "pending",
  "failed",
  "completed",
];
function boardControls() {
  const f = data.facets;
  const select = (id, text, value, options, onchange) =>
    h(
      "label",
      { for: id },
      text + " ",
      h(
        "select",
        { id, onchange: (e) => onchange(e.target.value) },
        options.map(([v, t]) => h("option", { value: v, selected: v === value }, t)),
      ),
    );
  const filter = (key, text, values) =>
    select(
      `filter-${key}`,
      text,
      state.filters[key],
      // The active value stays listed when no ticket has it any more: the select shows what filters the board.
      [
        ["", "all"],
        ...[...new Set([...values, ...(state.filters[key] ? [state.filters[key]] : [])])].map((v) => [
          v,
          label(v),
        ]),
      ],
      (v) => {
        state.filters[key] = v;
        render();
      },
    );
  return h(
    "form",
    { class: "controls", "aria-label": "Board options", onsubmit: (e) => e.preventDefault() },
    select(
      "group-by",
      "Columns",
      state.groupBy,
      [["phase", "by phase"], ["stage", "by stage"], ["state", "by state"]],
      (v) => {
        state.groupBy = v;
        state.pinned.clear();
        localStorage.setItem("baton.groupBy", v);
        render();
      },
    ),
    filter("priority", "Priority", f.priorities),
    filter("component", "Component", f.components),
    filter("agentType", "Agent type", f.agentTypes),
    filter("state", "State", f.states),
  );
}
function card(c, compact) {
  const markers = [];
  if (c.blocked) markers.push(h("span", { class: "marker blocked", title: "waits on a dependency" }, "blocked"));
  if (c.gated) markers.push(h("span", { class: "marker gated", title: "a human gate waits" }, "gate"));
  const where = c.phase ? `${c.phase} · ${label(c.state)}` : label(c.state);
  if (compact) {
    // A narrow column: the id and markers; the rest on hover and for screen readers.
    const holders = c.holders.map((x) => ` · ${x.agentId}`).join("");
    return h(
      "li",
      { class: `card compact state-${c.state}`, "data-ticket": c.id, "data-state": c.state },
      h(
        "a",
        {
          href: `/ticket/${encodeURIComponent(c.id)}`,
          "aria-label": `Ticket ${c.id}: ${c.title}, ${label(c.state)}`,
          title: `${c.id}: ${c.title}\n${where}${holders}`,
        },
        h("span", { class: "id" }, c.id),
        ...markers,
      ),
    );
  }
  return h(
    "li",
    { class: `card state-${c.state}`, "data-ticket": c.id, "data-state": c.state },
    h(
      "a",
      { href: `/ticket/${encodeURIComponent(c.id)}`, "aria-label": `Ticket ${c.id}: ${c.title}, ${label(c.state)}` },
      h("span", { class: "id" }, c.id),
      c.priority ? h("span", { class: `prio prio-${c.priority.toLowerCase()}` }, c.priority) : null,
      ...markers,
      h("span", { class: "title" }, c.title),
      h("span", { class: "phase" }, where),
      ...c.holders.map((x) =>
        h("span", { class: "holder", "data-agent": x.agentId }, `${x.agentId} · ${dur(data.now - x.since)}`)
      ),
    ),
  );
}
/** The columns of the chosen layout, in workflow order, each with its cards. */
function boardColumns(cards) {
  const open = (names) => cards.filter((c) => c.state !== "completed" && names.includes(c.phase));
  let columns;
  if (state.groupBy === "state") {
    const states = [...new Set([...STATE_ORDER, ...cards.map((c) => c.state)])];
    return states.map((s) => ({ key: s, title: label(s), cards: cards.filter((c) => c.state === s) }));
  }
  if (state.groupBy === "stage") {
    const stages = [];
    for (const p of data.phases) {
      let st = stages.find((x) => x.key === p.stage);
      if (!st) stages.push(st = { key: p.stage, names: [], human: true });
      st.names.push(p.name);
      if (p.agentType) st.human = false;
    }
    columns = stages.map((st) => ({
      key: st.key,
      title: st.names.length > 1 ? `${st.key} (${st.names.length} phases)` : st.key + (st.human ? " (human)" : ""),
      phases: st.names.length > 1 ? st.names : null,
      cards: open(st.names),
    }));
  } else {
    columns = data.phases.map((p) => ({
      key: p.name,
      title: p.name + (p.agentType ? "" : " (human)"),
      cards: open([p.name]),
    }));
  }
  // Open work at a phase the workflow no longer names (renamed or removed since the ticket was seeded): its own column.
  const known = new Set(data.phases.map((p) => p.name));
  const gone = [
    ...new Set(cards.filter((c) => c.state !== "completed" && c.phase && !known.has(c.phase)).map((c) => c.phase)),
  ];
  for (const name of gone) {
    columns.push({ key: `gone:${name}`, title: `${name} (no longer in the workflow)`, cards: open([name]) });
  }
  columns.push({ key: "done", title: "Done", cards: cards.filter((c) => c.state === "completed"), done: true });
  return columns;
}

const FULL_MIN = 180, COMPACT_W = 78, EMPTY_W = 34, GAP = 10;
/**
 * Which columns show in full: all when they fit the window; else the ones
 * holding the most open work (the Done column last), and those the user
 * opened, while they fit; the others are narrow (ids only). Empty columns
 * are left out, named in one line above the board, unless asked for.
 */
function fitColumns(columns) {
  const styles = getComputedStyle(main);
  const width = main.clientWidth - parseFloat(styles.paddingLeft) - parseFloat(styles.paddingRight);
  const shown = columns.filter((c) => c.cards.length || state.showEmpty);
  if (width < 700) return { shown, full: new Set(shown) }; // stacked: every column in full
  const busy = shown.filter((c) => c.cards.length);
  const empties = shown.length - busy.length;
  const need = (k) => k * FULL_MIN + (busy.length - k) * COMPACT_W + empties * EMPTY_W + (shown.length - 1) * GAP;
  const rank = [...busy].sort((a, b) =>
    (state.pinned.has(b.key) - state.pinned.has(a.key)) || (!!a.done - !!b.done) ||
    (b.cards.length - a.cards.length)
  );
  let k = busy.length;
  while (k > 1 && need(k) > width) k--;
  return { shown, full: new Set(rank.slice(0, k)) };
}

function renderBoard() {
  const f = state.filters;
  const cards = data.cards.filter((c) =>
    (!f.priority || c.priority === f.priority) &&
    (!f.component || c.components.includes(f.component)) &&
    (!f.agentType || c.agentType === f.agentType) &&
    (!f.state || c.state === f.state)
  );
  const columns = boardColumns(cards);
  const { shown, full } = fitColumns(columns);
  const empty = columns.filter((c) => !c.cards.length);
  const toggle = (key) => {
    if (state.pinned.has(key)) state.pinned.delete(key);
    else state.pinned.add(key);
    render();
  };
  const column = (col) => {
    const kind = !col.cards.length ? "empty" : full.has(col) ? "full" : "compact";
    const count = h("span", { class: "count" }, col.cards.length);
    const heading = kind === "compact" || state.pinned.has(col.key)
      ? h(
        "h2",
        {},
        h(
          "button",
          {
            type: "button",
            class: "expand",
            "aria-expanded": String(kind === "full"),
            title: kind === "full" ? "narrow this column again" : "show this column in full",
            onclick: () => toggle(col.key),
          },
          col.title,
        ),
        " ",
        count,
      )
      : h("h2", {}, col.title, " ", count);
    return h(
      "section",
      {
        class: `column ${kind}`,
        "aria-label": `${col.title}: ${col.cards.length}`,
        "data-column": col.key,
        "data-layout": kind,
      },
      heading,
      col.phases && kind === "full" ? h("p", { class: "stage-phases" }, col.phases.join(" · ")) : null,
      h("ul", {}, col.cards.map((c) => card(c, kind === "compact"))),
    );
  };
  return [
    h("h1", {}, "Board"),
    boardControls(),
    h("p", { class: "muted", id: "board-count" }, `${cards.length} of ${data.cards.length} tickets`),
    empty.length
      ? h(
        "p",
        { class: "empty-strip", id: "empty-columns" },
        h(
          "label",
          { for: "show-empty" },
          h("input", {
            type: "checkbox",
            id: "show-empty",
            checked: state.showEmpty,
            onchange: (e) => {
              state.showEmpty = e.target.checked;
              localStorage.setItem("baton.showEmpty", state.showEmpty ? "1" : "0");
              render();
            },
          }),
          ` ${empty.length} empty column${empty.length === 1 ? "" : "s"}`,
        ),
        h("span", { class: "muted" }, `: ${empty.map((c) => c.title).join(" · ")}`),
      )
      : null,
    h("div", { class: "board", id: "board" }, shown.map(column)),
  ];
}

// ---------- ticket ----------
/** An audit row's action, naming the phase it is about: "phase.seeded Python Design → skipped (reason)". */
function eventText(a) {
  const d = a.details ?? {};
  const phase = typeof d.phase === "string" ? ` ${d.phase}` : "";
  const reason = typeof d.reason === "string" ? ` (${d.reason})` : "";
  return `${a.action}${phase}${a.newState ? ` → ${a.newState}` : ""}${reason}`;
}
function renderTicket() {
  const t = data.ticket;
  const times = data.phases.flatMap((p) => [p.availableAt, p.claimedAt]).filter((x) => x);
  const t0 = Math.min(data.now, ...times);
  const span = Math.max(1, data.now - t0);
  const bar = (p) => {
    if (p.imported) return h("span", { class: "muted" }, "done before Baton");
    if (!p.availableAt && !p.claimedAt) return h("span", { class: "muted" }, "not reached");
    const pct = (x) => `${Math.max(0, Math.min(100, ((x - t0) / span) * 100)).toFixed(2)}%`;
    const a = p.availableAt ?? p.claimedAt, c = p.claimedAt, e = p.completedAt ?? (c ? data.now : null);
    return h(
      "span",
      { class: "bar", "aria-hidden": "true" },
      h("span", { class: "wait", style: `left:${pct(a)};width:calc(${pct(c ?? data.now)} - ${pct(a)})` }),
      c && e ? h("span", { class: "work", style: `left:${pct(c)};width:calc(${pct(e)} - ${pct(c)})` }) : null,
    );
  };
  // Phases that do not apply to this ticket are folded into one line (a workflow of 21 phases skips most).
  const skipped = data.phases.filter((p) => p.status === "skipped");
  const rows = data.phases.filter((p) => p.status !== "skipped");
  return [
    h("p", {}, h("a", { href: "/" }, "← Board")),
    h("h1", {}, `${t.id}: ${t.title}`),
    h("p", {}, `${t.status} · priority ${t.priority ?? "–"}${t.path ? ` · ${t.path}` : ""}`),
    section(
      "Phases",
      table(
        "Phases of the ticket",
        ["Phase", "Status", "Agent", "Wait", "Work", "Attempts", "Rework", "Timeline", "Notes"],
        rows.map((p) => [
          p.name,
          p.imported
            ? "completed (imported)"
            : p.unmergedBranch
            ? `${label(p.status)}, not merged yet (${p.unmergedBranch})`
            : label(p.status),
          p.claimedBy ?? "–",
          dur(p.waitMs),
          dur(p.durationMs),
          p.attempts,
          p.revisions,
          bar(p),
          [p.summary, p.error && `error: ${p.error}`, p.reworkNotes && `rework: ${p.reworkNotes}`]
            .filter(Boolean).join(" · "),
        ]),
      ),
      skipped.length
        ? h(
          "details",
          { id: "skipped-phases" },
          h("summary", {}, `${skipped.length} skipped phase${skipped.length === 1 ? "" : "s"}`),
          h(
            "ul",
            {},
            skipped.map((p) => h("li", {}, h("strong", {}, p.name), p.skipReason ? `: ${p.skipReason}` : "")),
          ),
        )
        : null,
    ),
    section(
      "Gates",
      table(
        "Gates",
        ["Gate", "Phase", "Status", "Decided by", "Notes"],
        data.gates.map((g) => [g.id, g.phaseName, g.status, g.decidedBy ?? "–", g.notes ?? ""]),
      ),
    ),
    section(
      "Dependencies",
      h("p", {}, "Waits for: ", data.dependencies.length ? "" : "nothing"),
      h(
        "ul",
        {},
        data.dependencies.map((d) =>
          h("li", {}, ticketLink(d.dependsOn), ` (${label(d.type)}${d.satisfiedAt ? ", done" : ""})`)
        ),
      ),
      h("p", {}, "Waited on by: ", data.dependents.length ? "" : "nothing"),
      h("ul", {}, data.dependents.map((d) => h("li", {}, ticketLink(d.ticketId), ` (${label(d.type)})`))),
    ),
    section(
      "Declared files",
      table(
        "Declared files",
        ["Phase", "Agent", "Path or glob"],
        data.declarations.map((d) => [d.phase, d.agentId, d.pattern]),
      ),
      data.overlaps.length
        ? h(
          "p",
          { class: "warn" },
          "Overlaps: ",
          data.overlaps.map((o) => `${o.pattern} ~ ${o.otherPattern} (${o.ticketId}/${o.phase}, ${o.agentId})`).join(
            "; ",
          ),
        )
        : null,
    ),
    section(
      "Recent events",
      table(
        "Recent events",
        ["When", "Who", "What"],
        data.events.map((a) => [time(a.at), a.actor, eventText(a)]),
      ),
    ),
    section(
      "Markdown",
      data.markdown === null
        ? h("p", { class: "muted" }, "no markdown file")
        : h("article", { class: "markdown", html: data.markdown }),
      data.markdownCut
        ? h(
          "p",
          { class: "muted", id: "markdown-cut" },
          `The first ${kb(data.markdownCut.shownBytes)} of ${
            kb(data.markdownCut.fileBytes)
          }; the rest is in ${t.path}.`,
        )
        : null,
    ),
  ];
}

// ---------- gates ----------
function who() {
  return (document.getElementById("reviewer")?.value ?? localStorage.getItem("baton.reviewer") ?? "").trim();
}
async function decide(gateId, verb, notes, out) {
  const say = (text) => {
    state.gateSaid.set(gateId, text);
    const shown = document.querySelector(`output[for="notes-${gateId}"]`) ?? out;
    shown.textContent = text;
  };
  const by = who();
  if (!by) {
    say("Enter your name first: decisions are recorded in it.");
    document.getElementById("reviewer").focus();
    return;
  }
  if (verb === "reject" && !notes.trim()) {
    say("Say what to change: the notes reach the next agent.");
    return;
  }
  if (state.sending.has(gateId)) return;
  state.sending.add(gateId);
  for (const b of document.querySelectorAll(`[data-gate="${gateId}"] button`)) b.disabled = true;
  say("Sending…");
  try {
    const r = await fetch(`/api/gates/${gateId}/${verb}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-baton-csrf": csrf },
      body: JSON.stringify({ by, notes }),
    });
    const body = await r.json().catch(() => ({}));
    say(
      r.ok
        ? `${body.status} by ${by}`
        : body.code === "csrf"
        ? 'error: the dashboard was restarted since this page opened; wait for "live" and try again'
        : `error: ${body.message ?? r.status}`,
    );
  } catch (e) {
    say(`error: the dashboard cannot be reached (${e.message}); nothing was sent — try again`);
  } finally {
    state.sending.delete(gateId);
    // Decided or refused, the page shows the gate as it is now (another human may have decided it).
    await refresh();
    render();
  }
}
function renderGates() {
  const reviewer = h("input", {
    id: "reviewer",
    name: "reviewer",
    autocomplete: "name",
    value: localStorage.getItem("baton.reviewer") ?? "",
    oninput: (e) => localStorage.setItem("baton.reviewer", e.target.value), // trimmed when sent: typing keeps spaces
  });
  // Rows keep their places: the open gates as now, the ones decided since in place (disabled), new ones last.
  const open = new Map(data.gates.map((g) => [g.id, g]));
  for (const id of state.gates.keys()) if (open.has(id)) state.gates.set(id, open.get(id));
  for (const g of data.gates) if (!state.gates.has(g.id)) state.gates.set(g.id, g);
  return [
    h("h1", {}, "Gates"),
    h("p", {}, h("label", { for: "reviewer" }, "Your name (recorded with each decision) "), reviewer),
    data.gates.length ? null : h("p", { class: "muted" }, "No gate waits for a human."),
    h(
      "ol",
      { class: "gates" },
      [...state.gates.values()].map((g) => {
        const isOpen = open.has(g.id);
        const notesId = `notes-${g.id}`;
        const out = h(
          "output",
          { for: notesId, "aria-live": "polite" },
          state.gateSaid.get(g.id) ?? (isOpen ? "" : "No longer open: decided (reload the page to clear it)."),
        );
        const notes = h("textarea", { id: notesId, rows: 3, disabled: !isOpen });
        return h(
          "li",
          isOpen ? { class: "gate", "data-gate": g.id } : { class: "gate decided", "data-decided-gate": g.id },
          h("h2", {}, ticketLink(g.ticketId, `${g.ticketId}: ${g.ticket.title}`), ` — ${g.phaseName}`),
          h(
            "p",
            { class: "muted" },
            `${g.kind} · open ${dur(data.now - g.openedAt)}${g.summary ? ` · ${g.summary}` : ""}`,
          ),
          h(
            "ul",
            { class: "reviewed" },
            g.reviewed.map((p) =>
              h(
                "li",
                {},
                h("strong", {}, p.name),
                p.imported ? " — done before Baton" : ` by ${p.claimedBy ?? "–"}: ${p.summary ?? "(no summary)"}`,
                p.artifacts.length
                  ? h("span", { class: "artifacts" }, ` · artifacts: ${p.artifacts.join(", ")}`)
                  : null,
              )
            ),
          ),
          h("label", { for: notesId }, "Notes"),
          notes,
          h(
            "div",
            { class: "actions" },
            h(
              "button",
              {
                type: "button",
                class: "approve",
                disabled: !isOpen || state.sending.has(g.id),
                onclick: () => decide(g.id, "approve", notes.value, out),
              },
              "Approve",
            ),
            h(
              "button",
              {
                type: "button",
                class: "reject",
                disabled: !isOpen || state.sending.has(g.id),
                onclick: () => decide(g.id, "reject", notes.value, out),
              },
              "Request changes",
            ),
            out,
          ),
        );
      }),
    ),
  ];
}

// ---------- agents ----------
function renderAgents() {
  const logLink = (file) => file ? h("a", { href: `/api/logs/${encodeURIComponent(file)}` }, "log") : "–";
  return [
    h("h1", {}, "Agents"),
    section(
      "Registered agents",
      table(
        "Registered agents",
        ["Agent", "Status", "Types", "Heartbeat", "Holds", "Last tool calls", "Log"],
        data.agents.map((a) => [
          a.id,
          a.status,
          a.capabilities.join(", "),
          h(
            "span",
            { class: data.now - a.lastHeartbeat > data.staleAfterMs ? "warn" : "" },
            `${dur(data.now - a.lastHeartbeat)} ago`,
          ),
          a.holds.map((x) => `${x.ticketId}/${x.phase} (${label(x.status)})`).join(", ") || "–",
          (a.tools ?? []).length
            ? h(
              "ol",
              { class: "tools", "aria-label": `last tool calls of ${a.id}` },
              a.tools.map((t) => h("li", {}, h("code", {}, t.tool), t.detail ? ` ${t.detail}` : "")),
            )
            : "–",
          logLink(a.log),
        ]),
      ),
    ),
    section(
      "Stalled",
      table(
        "Stalled work",
        ["Ticket", "Phase", "Agent", "Silent"],
        data.stalled.map((s) => [ticketLink(s.ticketId), s.phase, s.agentId ?? "–", dur(s.silentMs)]),
      ),
    ),
    section(
      "Stale leases",
      table(
        "Stale leases",
        ["Ticket", "Phase", "Agent", "Lease ended"],
        data.stale.map((s) => [ticketLink(s.ticketId), s.phase, s.agentId, time(s.leaseExpiresAt)]),
      ),
    ),
    section(
      "Escalations",
      table(
        "Escalations",
        ["#", "Ticket", "Phase", "Reason", "Last output"],
        data.escalations.map((
          x,
        ) => [x.id, ticketLink(x.ticketId), x.phaseName, x.reason, h("pre", {}, (x.lastOutput ?? "").slice(-600))]),
      ),
    ),
    section(
      "Agent types",
      table(
        "Agent types",
        ["Type", "Command", "Max", "Held", "Available"],
        data.types.map((t) => [t.type, t.command ?? "–", t.maxConcurrent ?? "–", t.held, t.available ?? "–"]),
      ),
    ),
    section(
      "Supervisor-run agents (baton run)",
      table(
        "Supervisor-run agents",
        ["Agent", "Log"],
        data.runs.map((r) => [r.agentId, logLink(r.file)]),
        "no agent started by baton run",
      ),
    ),
  ];
}

// ---------- merge ----------
const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
const short = (sha) => (sha ? sha.slice(0, 10) : "–");
let mergePoll = null;
function renderMerge() {
  clearTimeout(mergePoll);
  if (!data.configured) {
    return [
      h("h1", {}, "Merge"),
      h(
        "p",
        { class: "muted" },
        "No merge queue is configured. Add a merge: section (target, check) to .workflow/config.yaml, ",
        "and finished tickets land on the target through the queue.",
      ),
    ];
  }
  const s = data.status, m = data.metrics;
  // The check's output grows without audit events: poll while a batch is being built.
  if (s.building) mergePoll = setTimeout(() => refresh(), 2000);
  const outcome = (it) => h("span", { class: `outcome ${it.outcome}` }, label(it.outcome));
  const items = (b) =>
    h(
      "ul",
      { class: "items" },
      b.items.map((it) =>
        h(
          "li",
          {},
          it.kind === "revert" ? "revert " : "",
          ticketLink(it.ticketId),
          " ",
          outcome(it),
          it.sha ? ` ${short(it.sha)}` : "",
          it.notes ? h("details", {}, h("summary", {}, "notes"), h("pre", {}, it.notes.slice(-2000))) : "",
        )
      ),
    );
  return [
    h("h1", {}, `Merge into ${data.target}`),
    h(
      "p",
      { class: "muted" },
      `check: ${[].concat(data.check).join(" && ")} · ${data.strategy} · batches of ${data.batchSize} · worker: `,
      s.worker ? s.worker.id : "none running",
    ),
    s.targetRed
      ? h(
        "p",
        { class: "target-red", role: "alert" },
        `${data.target} is red: the check fails on ${data.target} itself at ${
          short(s.targetRed.sha)
        } (batch ${s.targetRed.batchId}, ${
          dur(data.now - s.targetRed.since)
        } ago). Nothing lands until a commit to ${data.target} fixes the check.`,
        s.targetRed.log
          ? h("details", {}, h("summary", {}, "check output"), h("pre", {}, s.targetRed.log.slice(-2000)))
          : "",
      )
      : "",
    section(
      "Queue",
      table(
        "Queued tickets",
        ["#", "Ticket", "Branch", "Waiting", "Attempts"],
        s.queued.map((q, i) => [
          i + 1,
          ticketLink(q.ticketId, `${q.ticketId} ${q.title}`),
          q.branch,
          dur(data.now - q.queuedAt),
          q.attempts,
        ]),
        "nothing queued",
      ),
      h(
        "p",
        { class: "muted" },
        `${s.waitingForWorkflow} still in their workflow · ${s.retrying} waiting for a retry · ${s.failed} failed`,
      ),
    ),
    section(
      "Current candidate",
      s.building
        ? h(
          "div",
          { class: "candidate", "data-batch": s.building.id },
          h(
            "p",
            {},
            `batch ${s.building.id} · ${label(s.building.status)} on ${
              short(s.building.baseSha)
            } · build ${s.building.builds} · started ${dur(data.now - s.building.startedAt)} ago`,
          ),
          items(s.building),
          h("pre", { class: "log", "aria-label": "check output" }, data.liveLog ?? "(no output yet)"),
        )
        : h("p", { class: "muted" }, "no batch being built"),
    ),
    section(
      "History",
      table(
        "Latest batches",
        ["Batch", "Status", "Tickets", "Builds", "Check", "Finished"],
        s.recent.filter((b) => b.status !== "building" && b.status !== "landing").map((b) => [
          b.id,
          h("span", { class: `outcome ${b.status}` }, label(b.status)),
          items(b),
          b.builds,
          dur(b.checkMs),
          time(b.finishedAt),
        ]),
        "no batch yet",
      ),
    ),
    section(
      "Flaky checks",
      table(
        "Flaky checks",
        ["Check", "Flaky runs", "Last"],
        s.flaky.map((f) => [f.check, f.count, time(f.lastAt)]),
        "no flaky check recorded",
      ),
    ),
    section(
      "Last 30 days",
      table(
        "Merge queue figures",
        ["Landed", "Per day", "Time in queue (median)", "Failed batches", "Bisected", "Conflicts", "Without a human"],
        [[
          m.landed,
          m.landedPerDay.toFixed(1),
          dur(m.queueMedianMs),
          pct(m.failureRate),
          pct(m.bisectRate),
          pct(m.conflictRate),
          pct(m.withoutHuman),
        ]],
      ),
    ),
  ];
}

// ---------- metrics ----------
const RANGES = [["", "all time"], ["1", "last 24 h"], ["7", "last 7 days"], ["30", "last 30 days"]];
function rangeValue() {
  const since = new URLSearchParams(location.search).get("since");
  if (!since) return "";
  const days = Math.round((Date.now() - Number(since)) / 86_400_000);
  return String(RANGES.find(([d]) => d && Number(d) === days)?.[0] ?? "");
}
function chart(name, title, opts, payload) {
  const box = h("figure", { class: "chart", "data-chart": name }, h("figcaption", {}, title));
  queueMicrotask(() => {
    const el = box;
    const width = Math.max(280, Math.min(560, el.clientWidth || 520));
    if (typeof uPlot === "undefined") {
      el.append(h("p", { class: "warn" }, "charts unavailable"));
      return;
    }
    window.baton.charts[name] = new uPlot({ width, height: 240, legend: { live: false }, ...opts }, payload, el);
  });
  return box;
}
/**
 * Per-category figures (one row per phase, in workflow order) as horizontal
 * bars: each label on its own line, in full, however many phases there are.
 * Each series has its own scale (its longest bar is the full width); the
 * value is written beside each bar. `window.baton.charts[name].data` holds
 * the figures as uPlot's would: [indexes, ...series].
 */
function hbars(name, title, names, series, fmt) {
  const max = series.map((s) => Math.max(0, ...s.values.filter((v) => v !== null && v !== undefined)));
  const rows = names.map((n, i) =>
    h(
      "div",
      { class: "hrow", role: "row" },
      h("span", { class: "hlabel", role: "rowheader", title: n }, n),
      h(
        "span",
        { class: "hbars", role: "cell" },
        series.map((s, k) => {
          const v = s.values[i];
          const w = v === null || v === undefined || !max[k] ? 0 : (v / max[k]) * 100;
          return h(
            "span",
            { class: "hbar-line", title: `${s.label}: ${v === null || v === undefined ? "–" : fmt[k](v)}` },
            h(
              "span",
              { class: "htrack" },
              h("span", {
                class: "hbar",
                style: `width:${w.toFixed(1)}%;background:${s.color}`,
                "data-value": v ?? "",
              }),
            ),
            h("span", { class: "hvalue" }, v === null || v === undefined ? "–" : fmt[k](v)),
          );
        }),
      ),
    )
  );
  window.baton.charts[name] = { data: [names.map((_n, i) => i), ...series.map((s) => s.values)], kind: "hbars" };
  return h(
    "figure",
    { class: "chart hchart", "data-chart": name },
    h("figcaption", {}, title),
    h(
      "p",
      { class: "legend" },
      series.map((s) => h("span", {}, h("span", { class: "swatch", style: `background:${s.color}` }), s.label)),
    ),
    h("div", { class: "htable", role: "table", "aria-label": title }, rows),
  );
}
/** A time axis padded by half a step each side, so that one day or one point still shows as a bar. */
function timeScale(xs, step) {
  const lo = xs.length ? Math.min(...xs) : Date.now() / 1000 - step;
  const hi = xs.length ? Math.max(...xs) : Date.now() / 1000;
  return { scales: { x: { time: true, range: [lo - step / 2, hi + step / 2] } } };
}
function bars(size = 0.6, align = 0) {
  return uPlot.paths?.bars ? uPlot.paths.bars({ size: [size, 60], align }) : undefined;
}
function renderMetrics() {
  const m = data.metrics;
  const names = m.phases.map((p) => p.phase);
  const sec = (ms) => (ms === null ? null : ms / 1000);
  const dsec = (s) => dur(s * 1000);
  const percent = (x) => `${Math.round(x)}%`;
  for (const c of Object.values(window.baton.charts)) c.destroy?.();
  window.baton.charts = {};
  const range = h(
    "label",
    { for: "range" },
    "Time range ",
    h(
      "select",
      {
        id: "range",
        onchange: (e) => {
          const d = e.target.value;
          location.search = d ? `?since=${Date.now() - Number(d) * 86_400_000}` : "";
        },
      },
      RANGES.map(([v, t]) => h("option", { value: v, selected: v === rangeValue() }, t)),
    ),
  );
  const days = m.throughput.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  const wipAt = data.wip.map((p) => p.at / 1000);
  const wipStep = wipAt.length > 1 ? wipAt[1] - wipAt[0] : 60;
  const types = m.contention.byType;
  return [
    h("h1", {}, "Metrics"),
    h("form", { class: "controls", onsubmit: (e) => e.preventDefault() }, range),
    h(
      "p",
      { id: "bottleneck" },
      m.bottleneck
        ? `Bottleneck: ${m.bottleneck.phase} (${m.bottleneck.waiting} waiting, ${dur(m.bottleneck.totalWaitMs)} in all)`
        : "Bottleneck: none (nothing waits)",
      ` · in progress now: ${m.workInProgress.claimed + m.workInProgress.running}`,
      ` · claim contention: ${m.contention.lost} lost to another agent`,
    ),
    h(
      "div",
      { class: "charts" },
      chart("throughput", "Throughput per day (completed in Baton; imported history left out)", {
        ...timeScale(days, 86_400),
        series: [
          {},
          { label: "phases", stroke: "#2563eb", fill: "rgba(37,99,235,.35)", paths: bars(0.4, -1) },
          { label: "tickets", stroke: "#16a34a", fill: "rgba(22,163,74,.35)", paths: bars(0.4, 1) },
        ],
      }, [days, m.throughput.map((d) => d.phases), m.throughput.map((d) => d.tickets)]),
      chart("wip", "Work in progress over time (phases held)", {
        scales: { ...timeScale(wipAt, wipStep).scales, y: { range: (_u, _lo, hi) => [0, Math.max(1, hi)] } },
        series: [
          {},
          { label: "most held at once", stroke: "#ea580c", fill: "rgba(234,88,12,.15)", paths: bars(0.9) },
          { label: "held at the end", stroke: "#9a3412", width: 2 },
        ],
      }, [wipAt, data.wip.map((p) => p.peak), data.wip.map((p) => p.held)]),
      hbars("durations", "Phase durations, claim → complete", names, [
        { label: "p50", color: "#2563eb", values: m.phases.map((p) => sec(p.claimToComplete.p50)) },
        { label: "p90", color: "#dc2626", values: m.phases.map((p) => sec(p.claimToComplete.p90)) },
      ], [dsec, dsec]),
      hbars("wait", "Wait before claim", names, [
        { label: "p50", color: "#7c3aed", values: m.phases.map((p) => sec(p.wait.p50)) },
        { label: "p90", color: "#db2777", values: m.phases.map((p) => sec(p.wait.p90)) },
      ], [dsec, dsec]),
      hbars("rates", "Failure, retry and rework per phase", names, [
        { label: "failure %", color: "#dc2626", values: m.phases.map((p) => p.failureRate * 100) },
        { label: "retry %", color: "#ca8a04", values: m.phases.map((p) => p.retryRate * 100) },
        { label: "rework", color: "#0891b2", values: m.phases.map((p) => p.rework) },
      ], [percent, percent, String]),
      hbars(
        "contention",
        "Claims lost to another agent, per agent type",
        types.length ? types.map((t) => t.agentType) : ["(none lost)"],
        [{ label: "lost", color: "#475569", values: types.length ? types.map((t) => t.lost) : [0] }],
        [String],
      ),
    ),
    section(
      "Per phase",
      table(
        "Per phase",
        ["Phase", "Completed", "p50", "p90", "Wait p50", "Failure", "Retry", "Rework"],
        m.phases.map((p) => [
          p.phase,
          p.completed,
          dur(p.claimToComplete.p50),
          dur(p.claimToComplete.p90),
          dur(p.wait.p50),
          `${Math.round(p.failureRate * 100)}%`,
          `${Math.round(p.retryRate * 100)}%`,
          p.rework,
        ]),
      ),
    ),
  ];
}

// ---------- rendering and live updates ----------
const RENDER = {
  board: renderBoard,
  ticket: renderTicket,
  gates: renderGates,
  agents: renderAgents,
  merge: renderMerge,
  metrics: renderMetrics,
};
function render() {
  // Keep the focused control or card focused across a redraw.
  const active = document.activeElement;
  const keep = active?.id || active?.closest?.("[data-ticket]")?.dataset.ticket;
  // What is being typed, and where the cursor is, survive a live update (every control is drawn anew).
  const typed = [...main.querySelectorAll("textarea[id], input[id]:not([type=checkbox])")].map((t) => [t.id, t.value]);
  const caret = typeof active?.selectionStart === "number" && active.id // text fields (a checkbox has none)
    ? [active.selectionStart, active.selectionEnd, active.selectionDirection]
    : null;
  // A page's parts may be null (nothing to show): left out, never shown as "null".
  main.replaceChildren(...RENDER[page]().flat().filter((x) => x !== null && x !== undefined && x !== false));
  for (const [id, v] of typed) {
    const t = document.getElementById(id);
    if (t) t.value = v;
  }
  if (keep) {
    const el = document.getElementById(keep) ?? main.querySelector(`[data-ticket="${CSS.escape(keep)}"] a`);
    el?.focus({ preventScroll: true });
    if (caret && typeof el?.selectionStart === "number") el.setSelectionRange(...caret);
  }
  state.renders++;
  document.body.dataset.renders = String(state.renders);
  if (state.renders === 1) performance.mark("baton:first-render");
}
function apiPath() {
  if (page === "ticket") return `/api${location.pathname}`;
  if (page === "board") return "/api/board";
  return `/api/${page}${location.search}`;
}
let inflight = null, again = false;
async function refresh() {
  if (inflight) {
    again = true;
    return inflight;
  }
  inflight = (async () => {
    try {
      const r = await fetch(apiPath(), { headers: { accept: "application/json" } });
      if (r.ok) {
        data = await r.json();
        render();
      }
    } catch {
      // The server is gone for now: the event stream says "reconnecting…", and its hello fetches again.
      live.textContent = "reconnecting…";
      live.className = "off";
    } finally {
      inflight = null;
      if (again) {
        again = false;
        refresh();
      }
    }
  })();
  return inflight;
}
function follow() {
  const es = new EventSource("/api/events");
  es.addEventListener("hello", (e) => {
    const hello = JSON.parse(e.data || "{}");
    if (hello.csrf) csrf = hello.csrf;
    live.textContent = "live";
    live.className = "on";
    // What changed between the page's data and this stream (or while it was reconnecting) is fetched once.
    refresh();
  });
  es.addEventListener("audit", (e) => {
    const a = JSON.parse(e.data);
    if (page === "ticket" && a.ticketId && a.ticketId !== data.ticket.id) return;
    live.textContent = `live · ${a.action}`;
    live.className = "on"; // back from a refresh that failed
    refresh();
  });
  es.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "off";
  };
}
render();
follow();
if (page === "board") {
  // Which columns fit in full depends on the window's width.
  let resized = null;
  addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(render, 100);
  });
}
