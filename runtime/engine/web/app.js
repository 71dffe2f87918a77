// The cumulus dashboard: a read-only view over /api. Plain DOM, no
// framework and nothing loaded from elsewhere, so it works offline and
// needs no build step. Views are chosen by the URL's hash (#/, #/granules,
// #/granules/ID, #/runs, #/runs/ID) and redrawn when /api/events says the
// store changed (or, where events cannot stream, every few seconds).
"use strict";

(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const view = document.getElementById("view");

  // h builds an element; text goes through textContent, never HTML, so
  // names from the store cannot inject markup.
  function h(tag, attrs, ...kids) {
    const el = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat()) {
      if (kid === undefined || kid === null || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  const s = (tag, attrs, ...kids) => h("svg:" + tag, attrs, ...kids);

  async function api(path) {
    const res = await fetch(path, { headers: { Accept: "application/json" } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const msg = (body.error && body.error.message) || res.statusText;
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  const badge = (st) => h("span", { class: "badge " + st }, st);
  const fmtTime = (t) => (t ? new Date(t).toLocaleString() : "");
  function fmtDur(ms) {
    if (ms === undefined || ms === null) return "";
    if (ms < 1000) return ms + " ms";
    const sec = ms / 1000;
    if (sec < 60) return sec.toFixed(1) + " s";
    const m = Math.floor(sec / 60);
    if (m < 60) return m + "m " + Math.round(sec % 60) + "s";
    return Math.floor(m / 60) + "h " + (m % 60) + "m";
  }
  function fmtBytes(n) {
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }
  const link = (href, text) => h("a", { href }, text);

  // ---- routing ----
  function route() {
    const raw = location.hash.replace(/^#/, "") || "/";
    const [path, query] = raw.split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    return { parts, params: new URLSearchParams(query || "") };
  }
  let renderSeq = 0;
  async function render(quiet) {
    const seq = ++renderSeq;
    const { parts, params } = route();
    const section = parts[0] || "overview";
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === section));
    let node;
    try {
      if (section === "overview") node = await overview();
      else if (section === "granules" && parts[1]) node = await granuleView(parts[1]);
      else if (section === "granules") node = await granulesView(params);
      else if (section === "runs" && parts[1]) node = await runView(parts[1]);
      else if (section === "runs") node = await runsView(params);
      else node = h("p", { class: "error" }, "No such page.");
    } catch (e) {
      node = h("div", { class: "panel error", id: "error" }, "Could not load this view: " + e.message);
    }
    if (seq !== renderSeq) return; // a newer render started meanwhile
    const keep = captureState();
    view.replaceChildren(node);
    restoreState(keep, quiet);
  }
  // Live redraws keep what the user typed and where the logs were scrolled.
  function captureState() {
    const a = document.activeElement;
    const log = document.querySelector(".log");
    return { id: a && a.id, value: a && a.value, start: a && a.selectionStart, scroll: log && log.scrollTop };
  }
  function restoreState(st, quiet) {
    if (!quiet) return;
    if (st.id) {
      const el = document.getElementById(st.id);
      if (el && "value" in el) {
        el.value = st.value;
        el.focus();
        try { el.setSelectionRange(st.start, st.start); } catch (_) { /* not a text field */ }
      }
    }
    const log = document.querySelector(".log");
    if (log && st.scroll) log.scrollTop = st.scroll;
  }
  function go(hash) {
    if (location.hash === hash) render(false);
    else location.hash = hash;
  }

  // ---- overview ----
  async function overview() {
    const [health, pipes, stats, active, recent] = await Promise.all([
      api("/api/health"), api("/api/pipelines"), api("/api/stats"),
      api("/api/runs?status=running&limit=50"), api("/api/runs?limit=15"),
    ]);
    const g = health.granules, r = health.runs;
    const card = (n, l, cls) => h("div", { class: "card " + (cls || "") }, h("div", { class: "n" }, n), h("div", { class: "l" }, l));
    const cards = h("div", { class: "cards", id: "health-cards" },
      card(g.completed, "granules completed"), card(g.failed, "granules failed"),
      card(g.running, "granules running"), card(g.queued, "granules queued"),
      card(r.succeeded + r.failed + r.cancelled, "runs finished"),
      card(successRate(r), "success rate"));
    return h("div", {},
      h("h2", {}, "Health"), cards,
      h("h2", {}, "Throughput"), h("div", { class: "panel", id: "throughput" }, throughputChart(stats.throughput)),
      h("h2", {}, "Pipelines"), ...pipes.pipelines.map(pipelinePanel),
      h("h2", {}, "Live runs"), h("div", { class: "panel", id: "live-runs" }, runsTable(active.runs, "No run is running.")),
      h("h2", {}, "Recent runs"), h("div", { class: "panel" }, runsTable(recent.runs, "No runs yet.")));
  }
  function successRate(r) {
    const done = r.succeeded + r.failed;
    return done ? Math.round((100 * r.succeeded) / done) + "%" : "–";
  }

  // pipelinePanel draws a pipeline's graph: a column per level, edges as
  // curves from each step to the steps waiting for it.
  function pipelinePanel(p) {
    const counts = Object.entries(p.runs).filter(([, n]) => n > 0).map(([st, n]) => h("span", {}, badge(st), " ", n, " "));
    const head = h("h3", {}, "pipeline ", h("code", {}, p.name),
      p.in_graph ? h("span", { class: "muted" }, "  · concurrency " + p.concurrency) : h("span", { class: "muted" }, "  · not in the configuration any more"));
    const srcs = p.sources.length ? h("div", { class: "muted" }, "fed by ", p.sources.map((x) => `source ${x.name} (collection ${x.collection}, every ${x.every})`).join(", ")) : null;
    return h("div", { class: "panel pipeline", "data-pipeline": p.name }, head, srcs, h("div", {}, counts), p.steps.length ? graphSVG(p.steps) : h("p", { class: "muted" }, "No graph."));
  }
  function graphSVG(steps) {
    const W = 170, H = 46, GX = 60, GY = 18;
    const cols = {};
    for (const st of steps) (cols[st.level] = cols[st.level] || []).push(st);
    const pos = {};
    let maxRows = 0;
    for (const [lvl, list] of Object.entries(cols)) {
      list.forEach((st, i) => { pos[st.name] = { x: 10 + lvl * (W + GX), y: 10 + i * (H + GY) }; });
      maxRows = Math.max(maxRows, list.length);
    }
    const levels = Object.keys(cols).length;
    const width = 20 + levels * W + (levels - 1) * GX, height = 20 + maxRows * H + (maxRows - 1) * GY;
    const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "graph", role: "img" });
    svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
      s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8a97a8" }))));
    for (const st of steps) {
      for (const a of st.after) {
        const from = pos[a], to = pos[st.name];
        if (!from || !to) continue;
        const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2, mx = (x1 + x2) / 2;
        svg.append(s("path", { class: "edge", d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, "marker-end": "url(#arrow)" }));
      }
    }
    for (const st of steps) {
      const p = pos[st.name];
      const g = s("g", { class: "node " + (st.runs.startsWith("task.") ? "task" : "stdlib"), transform: `translate(${p.x},${p.y})` },
        s("title", {}, `${st.name}: ${st.runs}${st.retries ? `, ${st.retries} retries` : ""}${st.conditional ? ", conditional" : ""}`),
        s("rect", { width: W, height: H, rx: 6 }),
        s("text", { x: 10, y: 19 }, st.name + (st.conditional ? " ?" : "")),
        s("text", { x: 10, y: 36, class: "small" }, st.runs + (st.retries ? ` ↻${st.retries}` : "")));
      svg.append(g);
    }
    return svg;
  }

  // throughputChart stacks, per interval, the runs that succeeded and
  // failed across pipelines.
  function throughputChart(tp) {
    const n = tp.series.length ? tp.series[0].points.length : 0;
    if (!n) return h("p", { class: "muted" }, `No run ended between ${fmtTime(tp.since)} and ${fmtTime(tp.until)}.`);
    const ok = new Array(n).fill(0), bad = new Array(n).fill(0);
    for (const se of tp.series) se.points.forEach((p, i) => { ok[i] += p.succeeded; bad[i] += p.failed; });
    const max = Math.max(1, ...ok.map((v, i) => v + bad[i]));
    const W = 900, H = 180, L = 40, B = 24, bw = (W - L - 10) / n;
    const svg = s("svg", { width: "100%", viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "runs ended per interval" });
    svg.append(s("line", { class: "axis", x1: L, y1: H - B, x2: W - 10, y2: H - B, stroke: "#dde2e8" }));
    svg.append(s("text", { x: L - 6, y: 14, "text-anchor": "end", class: "small" }, max));
    svg.append(s("text", { x: L - 6, y: H - B, "text-anchor": "end", class: "small" }, 0));
    const y = (v) => ((H - B - 10) * v) / max;
    for (let i = 0; i < n; i++) {
      const x = L + i * bw + 1, w = Math.max(1, bw - 2);
      const t = tp.series[0].points[i].t;
      if (ok[i]) svg.append(s("rect", { class: "bar-ok", x, width: w, y: H - B - y(ok[i]), height: y(ok[i]) }, s("title", {}, `${fmtTime(t)}: ${ok[i]} succeeded`)));
      if (bad[i]) svg.append(s("rect", { class: "bar-fail", x, width: w, y: H - B - y(ok[i]) - y(bad[i]), height: y(bad[i]) }, s("title", {}, `${fmtTime(t)}: ${bad[i]} failed`)));
    }
    svg.append(s("text", { x: L, y: H - 6, class: "small" }, fmtTime(tp.since)));
    svg.append(s("text", { x: W - 10, y: H - 6, "text-anchor": "end", class: "small" }, fmtTime(tp.until)));
    const totals = tp.series.map((se) => `${se.pipeline}: ${se.succeeded} succeeded, ${se.failed} failed`).join(" · ");
    return h("div", {}, svg,
      h("div", { class: "legend" }, h("span", {}, h("i", { class: "ok" }), "succeeded"), h("span", {}, h("i", { class: "fail" }), "failed"),
        h("span", { class: "muted" }, `per ${fmtDur(tp.interval_s * 1000)} · ${totals}`)));
  }

  function runsTable(runs, empty) {
    if (!runs.length) return h("p", { class: "muted" }, empty);
    return h("table", { class: "runs" },
      h("thead", {}, h("tr", {}, h("th", {}, "run"), h("th", {}, "granule"), h("th", {}, "pipeline"), h("th", {}, "status"),
        h("th", {}, "progress"), h("th", {}, "created"), h("th", { class: "num" }, "duration"))),
      h("tbody", {}, runs.map((r) => {
        const done = r.steps.filter((x) => x.status === "succeeded" || x.status === "skipped").length;
        const cur = r.steps.find((x) => x.status === "running");
        return h("tr", { class: "link", "data-run": r.id, onclick: () => go("#/runs/" + encodeURIComponent(r.id)) },
          h("td", { class: "mono" }, link("#/runs/" + encodeURIComponent(r.id), r.id)),
          h("td", { class: "mono" }, r.granule_id), h("td", {}, r.pipeline), h("td", {}, badge(r.status)),
          h("td", {}, `${done}/${r.steps.length} steps` + (cur ? ` · ${cur.name}` : "")),
          h("td", {}, fmtTime(r.created)), h("td", { class: "num" }, fmtDur(r.duration_ms)));
      })));
  }

  // ---- granules ----
  async function granulesView(params) {
    const status = params.get("status") || "", prefix = params.get("prefix") || "", collection = params.get("collection") || "";
    const q = new URLSearchParams();
    if (status) q.set("status", status);
    if (prefix) q.set("prefix", prefix);
    if (collection) q.set("collection", collection);
    q.set("limit", "100");
    const [page, stats] = await Promise.all([api("/api/granules?" + q), api("/api/stats")]);
    const setParam = (k, v) => {
      const p = new URLSearchParams(params);
      if (v) p.set(k, v); else p.delete(k);
      go("#/granules" + (p.toString() ? "?" + p : ""));
    };
    const statuses = ["", "queued", "running", "completed", "failed"];
    const search = h("input", { type: "search", id: "granule-search", placeholder: "granule id prefix…", value: prefix, "aria-label": "search granules by id prefix" });
    let timer;
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => setParam("prefix", search.value.trim()), 300); });
    const cols = Object.keys(stats.counts.granules).sort();
    const colSel = h("select", { id: "collection-filter", "aria-label": "collection", onchange: (e) => setParam("collection", e.target.value) },
      h("option", { value: "" }, "all collections"), cols.map((c) => h("option", { value: c, selected: c === collection }, c)));
    const toolbar = h("div", { class: "toolbar" },
      statuses.map((st) => h("button", { class: st === status ? "active" : "", "data-status": st || "all", onclick: () => setParam("status", st) }, st || "all")),
      colSel, search);
    const tbody = h("tbody", {});
    const table = h("table", { id: "granules" },
      h("thead", {}, h("tr", {}, h("th", {}, "granule"), h("th", {}, "collection"), h("th", {}, "status"), h("th", {}, "pipeline"),
        h("th", { class: "num" }, "files"), h("th", { class: "num" }, "size"), h("th", {}, "runs"), h("th", {}, "updated"))), tbody);
    const addRows = (gs) => {
      for (const g of gs) {
        tbody.append(h("tr", { class: "link", "data-id": g.id, "data-status": g.status, onclick: () => go("#/granules/" + encodeURIComponent(g.id)) },
          h("td", { class: "mono" }, link("#/granules/" + encodeURIComponent(g.id), g.id)), h("td", {}, g.collection), h("td", {}, badge(g.status)),
          h("td", {}, g.pipeline), h("td", { class: "num" }, g.file_count), h("td", { class: "num" }, fmtBytes(g.bytes)),
          h("td", {}, g.runs.length), h("td", {}, fmtTime(g.updated))));
      }
    };
    addRows(page.granules);
    const panel = h("div", { class: "panel" }, table);
    if (!page.granules.length) panel.append(h("p", { class: "muted", id: "no-granules" }, "No granule matches."));
    let next = page.next;
    const more = h("button", { class: "more", hidden: !next }, "more");
    more.addEventListener("click", async () => {
      const p2 = new URLSearchParams(q);
      p2.set("cursor", next);
      const pg = await api("/api/granules?" + p2);
      addRows(pg.granules);
      next = pg.next;
      more.hidden = !next;
    });
    panel.append(more);
    return h("div", {}, h("h2", {}, "Granules"), toolbar, panel);
  }

  async function granuleView(id) {
    const g = await api("/api/granules/" + encodeURIComponent(id));
    const files = h("table", { id: "files" },
      h("thead", {}, h("tr", {}, h("th", {}, "file"), h("th", {}, "type"), h("th", { class: "num" }, "size"), h("th", {}, "checksum"), h("th", {}, "archived at"))),
      h("tbody", {}, g.files.map((f) => h("tr", {}, h("td", { class: "mono" }, f.name), h("td", {}, f.type), h("td", { class: "num" }, fmtBytes(f.size)),
        h("td", { class: "mono" }, f.checksum ? `${f.checksum_type}:${f.checksum}` : ""), h("td", { class: "mono" }, f.location)))));
    const runs = h("table", {}, h("tbody", {}, g.runs.map((r) => h("tr", { class: "link", onclick: () => go("#/runs/" + encodeURIComponent(r.id)) },
      h("td", { class: "mono" }, link("#/runs/" + encodeURIComponent(r.id), r.id)), h("td", {}, r.pipeline), h("td", {}, "version " + r.version), h("td", {}, badge(r.status))))));
    const parts = [
      h("h2", {}, "Granule ", h("code", { id: "granule-id" }, g.id), " ", badge(g.status)),
      h("p", { class: "muted" }, `collection ${g.collection} · pipeline ${g.pipeline} · version ${g.version} · ${g.file_count} files, ${fmtBytes(g.bytes)} · updated ${fmtTime(g.updated)}`),
      h("div", { class: "panel" }, h("h3", {}, "Files"), files),
      h("div", { class: "panel" }, h("h3", {}, "Runs"), runs),
    ];
    if (g.latest_run) parts.push(...(await runDetail(g.latest_run, "Latest run")));
    if (g.metadata) parts.push(h("div", { class: "panel" }, h("h3", {}, "Metadata"), h("pre", { class: "json" }, JSON.stringify(g.metadata, null, 2))));
    return h("div", {}, parts);
  }

  // ---- runs ----
  async function runsView(params) {
    const status = params.get("status") || "", pipeline = params.get("pipeline") || "";
    const q = new URLSearchParams({ limit: "100" });
    if (status) q.set("status", status);
    if (pipeline) q.set("pipeline", pipeline);
    const page = await api("/api/runs?" + q);
    const setParam = (k, v) => {
      const p = new URLSearchParams(params);
      if (v) p.set(k, v); else p.delete(k);
      go("#/runs" + (p.toString() ? "?" + p : ""));
    };
    const toolbar = h("div", { class: "toolbar" }, ["", "queued", "running", "succeeded", "failed", "cancelled"].map((st) =>
      h("button", { class: st === status ? "active" : "", onclick: () => setParam("status", st) }, st || "all")));
    return h("div", {}, h("h2", {}, "Runs"), toolbar, h("div", { class: "panel" }, runsTable(page.runs, "No run matches.")));
  }

  async function runView(id) {
    const r = await api("/api/runs/" + encodeURIComponent(id));
    return h("div", {}, ...(await runDetail(r, "Run")));
  }

  // runDetail shows a run's step timeline, its steps with their attempts,
  // and the log viewer (every step's logs, or the chosen step's).
  async function runDetail(r, label) {
    const { params } = route();
    const step = params.get("step") || "";
    const text = params.get("q") || "";
    const head = h("h2", {}, label + " ", h("code", {}, link("#/runs/" + encodeURIComponent(r.id), r.id)), " ", badge(r.status));
    const meta = h("p", { class: "muted" }, `granule `, link("#/granules/" + encodeURIComponent(r.granule_id), r.granule_id),
      ` · pipeline ${r.pipeline} · created ${fmtTime(r.created)} · ${fmtDur(r.duration_ms)}` + (r.error ? "" : ""));
    const err = r.error ? h("p", { class: "error" }, r.error) : null;
    const steps = h("table", { id: "steps" },
      h("thead", {}, h("tr", {}, h("th", {}, "step"), h("th", {}, "status"), h("th", {}, "attempts"), h("th", { class: "num" }, "duration"), h("th", {}, "exit codes"), h("th", {}, "error"))),
      h("tbody", {}, r.steps.map((st) => h("tr", { class: "link", "data-step": st.name, onclick: () => setStep(st.name) },
        h("td", {}, st.name), h("td", {}, badge(st.status)), h("td", { class: "num" }, st.attempts.length),
        h("td", { class: "num" }, fmtDur(st.duration_ms)),
        h("td", { class: "mono" }, st.attempts.map((a) => (a.exit_code === null ? "–" : a.exit_code)).join(", ")),
        h("td", { class: "error" }, st.error || "")))));
    const logs = await logViewer(r, step, text);
    return [head, meta, err,
      h("div", { class: "panel" }, h("h3", {}, "Timeline"), timeline(r)),
      h("div", { class: "panel" }, h("h3", {}, "Steps"), steps),
      h("div", { class: "panel", id: "logs" }, logs)];
  }
  function setStep(name) {
    const { parts, params } = route();
    if (params.get("step") === name) params.delete("step"); else params.set("step", name);
    go("#/" + parts.map(encodeURIComponent).join("/") + (params.toString() ? "?" + params : ""));
  }

  // timeline draws each step's attempts as bars on one time axis.
  function timeline(r) {
    const times = [];
    for (const st of r.steps) for (const a of st.attempts) {
      times.push(Date.parse(a.started));
      times.push(a.ended ? Date.parse(a.ended) : Date.now());
    }
    if (!times.length) return h("p", { class: "muted" }, "No step has started yet.");
    const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1);
    const W = 900, L = 130, R = 70, RH = 24, H = r.steps.length * RH + 26;
    const x = (t) => L + ((W - L - R) * (t - t0)) / (t1 - t0);
    const svg = s("svg", { width: "100%", viewBox: `0 0 ${W} ${H}`, id: "timeline", role: "img", "aria-label": "step timeline" });
    const cls = { succeeded: "bar-ok", failed: "bar-fail", running: "bar-run", interrupted: "bar-int" };
    r.steps.forEach((st, i) => {
      const y = 6 + i * RH;
      svg.append(s("text", { x: 4, y: y + 14, class: "step-label", onclick: () => setStep(st.name) }, st.name));
      svg.append(s("line", { class: "axis", x1: L, y1: y + RH - 3, x2: W - R, y2: y + RH - 3, stroke: "#eef1f4" }));
      for (const a of st.attempts) {
        const a0 = Date.parse(a.started), a1 = a.ended ? Date.parse(a.ended) : Date.now();
        svg.append(s("rect", { class: cls[a.status] || "bar-pend", x: x(a0), y: y + 3, width: Math.max(2, x(a1) - x(a0)), height: RH - 9, rx: 3 },
          s("title", {}, `${st.name} attempt ${a.number}: ${a.status}, ${fmtDur(a.duration_ms)}` + (a.exit_code !== null ? `, exit ${a.exit_code}` : "") + (a.error ? ` — ${a.error}` : ""))));
      }
      svg.append(s("text", { x: W - R + 6, y: y + 14, class: "small" }, st.attempts.length ? fmtDur(st.duration_ms) : st.status));
    });
    svg.append(s("text", { x: L, y: H - 4, class: "small" }, "0"));
    svg.append(s("text", { x: W - R, y: H - 4, "text-anchor": "end", class: "small" }, fmtDur(t1 - t0)));
    return svg;
  }

  async function logViewer(r, step, text) {
    const q = new URLSearchParams({ run: r.id });
    if (step) q.set("step", step);
    if (text) q.set("q", text);
    let ans;
    try {
      ans = await api("/api/logs?" + q);
    } catch (e) {
      return h("p", { class: "error" }, "Logs: " + e.message);
    }
    const search = h("input", { type: "search", id: "log-search", placeholder: "search the logs…", value: text, "aria-label": "search the logs" });
    let timer;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const { parts, params } = route();
        if (search.value) params.set("q", search.value); else params.delete("q");
        go("#/" + parts.map(encodeURIComponent).join("/") + (params.toString() ? "?" + params : ""));
      }, 300);
    });
    const stepSel = h("select", { id: "log-step", "aria-label": "step", onchange: (e) => setStep(e.target.value || step) },
      h("option", { value: "" }, "all steps"), r.steps.map((st) => h("option", { value: st.name, selected: st.name === step }, st.name)));
    const out = [h("h3", {}, "Logs"), h("div", { class: "toolbar" }, stepSel, search)];
    if (!ans.logs.length) out.push(h("p", { class: "muted" }, "No attempt has a log yet."));
    for (const l of ans.logs) {
      out.push(h("div", { class: "loghead", "data-step": l.step }, `${l.step} · attempt ${l.attempt} `, badge(l.status),
        text ? h("span", { class: "muted" }, ` ${l.matches} matching lines`) : null, l.truncated ? h("span", { class: "muted" }, " (first MiB)") : null));
      if (l.missing) { out.push(h("p", { class: "muted" }, "This attempt left no log.")); continue; }
      out.push(h("div", { class: "log", "data-step": l.step, "data-attempt": l.attempt },
        l.lines.length ? l.lines.map((ln) => h("span", { class: "ln" }, h("span", { class: "no" }, ln.n), highlight(ln.text, text))) : h("span", { class: "ln muted" }, text ? "(no line matches)" : "(empty)")));
    }
    return h("div", {}, out);
  }
  function highlight(line, text) {
    if (!text) return line;
    const i = line.toLowerCase().indexOf(text.toLowerCase());
    if (i < 0) return line;
    return h("span", {}, line.slice(0, i), h("mark", {}, line.slice(i, i + text.length)), line.slice(i + text.length));
  }

  // ---- health and live updates ----
  async function refreshHealth() {
    const dot = document.getElementById("health"), txt = document.getElementById("health-text");
    try {
      const hl = await api("/api/health");
      dot.className = "dot ok";
      txt.textContent = `${hl.runs.running} running · ${hl.runs.queued} queued`;
    } catch (e) {
      dot.className = "dot bad";
      txt.textContent = "unavailable";
    }
  }
  let pending;
  function changed() {
    clearTimeout(pending);
    pending = setTimeout(() => { render(true); refreshHealth(); }, 250);
  }
  function live() {
    const badgeEl = document.getElementById("live");
    if (!window.EventSource) return poll(badgeEl);
    const es = new EventSource("/api/events");
    let opened = false;
    es.addEventListener("hello", () => { opened = true; badgeEl.className = "live on"; badgeEl.textContent = "live"; });
    es.addEventListener("change", changed);
    es.onerror = () => {
      if (!opened) { es.close(); poll(badgeEl); return; } // no streaming here: poll instead
      badgeEl.className = "live off";
      badgeEl.textContent = "reconnecting";
    };
  }
  function poll(badgeEl) {
    badgeEl.className = "live poll";
    badgeEl.textContent = "polling";
    setInterval(changed, 5000);
  }

  window.addEventListener("hashchange", () => render(false));
  render(false);
  refreshHealth();
  live();
})();
