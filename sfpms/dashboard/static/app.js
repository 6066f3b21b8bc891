"use strict";
// The dashboard page: fetches /api/overview every few seconds and redraws. No libraries;
// every value goes into the DOM through textContent, never as HTML.

(function () {
  const REFRESH_MS = Number(document.body.dataset.refreshMs) || 3000;
  const SVG = "http://www.w3.org/2000/svg";

  // -- auth: the token never travels in a URL or lives in script-readable storage. The login
  // form sets an HttpOnly session cookie that fetch sends by itself (sfpms/dashboard/auth.py).
  sessionStorage.removeItem("sfpms-dashboard-token"); // left behind by earlier versions

  function sessionEnded(response) {
    if (response.status !== 401) return false;
    location.assign("/login");
    return true;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, String(value));
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fmtInt(n) {
    return n === null || n === undefined ? "n/a" : Number(n).toLocaleString("en-US");
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined) return "n/a";
    if (s === 0) return "0 s";
    if (s < 1) return s.toFixed(2) + " s";
    if (s < 120) return s.toFixed(1) + " s";
    if (s < 7200) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }

  function fmtTime(epoch) {
    return new Date(epoch * 1000).toLocaleTimeString("en-GB", { hour12: false });
  }

  function title(flow) {
    const parts = flow.split("_");
    const cap = (w) => w.charAt(0).toUpperCase() + w.slice(1);
    return cap(parts[0]) + " ⇄ " + parts.slice(1).map(cap).join(" ");
  }

  function healthOf(status) {
    if (["ERR", "STOP", "STALL", "REWIND"].includes(status)) return "error";
    if (status === "WARN") return "warn";
    if (status === "NOTFOUND") return "unknown";
    return "ok";
  }

  // -- charts ---------------------------------------------------------------------------

  function chart(points, label) {
    const width = 300, height = 90, pad = 4;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    const text = (x, y, value, anchor) => {
      const t = document.createElementNS(SVG, "text");
      t.setAttribute("x", x);
      t.setAttribute("y", y);
      t.setAttribute("text-anchor", anchor || "start");
      t.textContent = value;
      svg.append(t);
    };
    if (!points || points.length < 2) {
      text(width / 2, height / 2 + 4, "collecting history…", "middle");
      return svg;
    }
    const t0 = points[0][0], t1 = points[points.length - 1][0];
    const maxLag = Math.max(1, ...points.map((p) => p[1]));
    const x = (t) => pad + ((t - t0) / Math.max(1e-9, t1 - t0)) * (width - 2 * pad);
    const y = (v) => height - pad - (v / maxLag) * (height - 2 * pad - 12);
    const coords = points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
    const area = document.createElementNS(SVG, "polygon");
    area.setAttribute("class", "area");
    area.setAttribute(
      "points",
      `${x(t0).toFixed(1)},${height - pad} ${coords.join(" ")} ${x(t1).toFixed(1)},${height - pad}`
    );
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("class", "line");
    line.setAttribute("points", coords.join(" "));
    svg.append(area, line);
    text(pad + 2, 11, "max " + fmtInt(maxLag));
    const span = t1 - t0;
    text(width - pad - 2, 11, "last " + (span < 120 ? Math.round(span) + " s" : Math.round(span / 60) + " min"), "end");
    return svg;
  }

  // -- sections ------------------------------------------------------------------------

  function flowCard(flow) {
    // Each flow's own histogram (sfpms_e2e_latency_seconds{flow=...}); with one write the
    // figures are that write's latency, not an interpolation inside its bucket.
    const lat = flow.latency && flow.latency !== "n/a" ? flow.latency : null;
    const latency = lat
      ? `e2e latency p50 ${fmtSeconds(lat.p50)} · p95 ${fmtSeconds(lat.p95)} · p99 ${fmtSeconds(lat.p99)}` +
        ` (${fmtInt(lat.count)} write${lat.count === 1 ? "" : "s"}` +
        (lat.mean === null || lat.mean === undefined ? ")" : `, mean ${fmtSeconds(lat.mean)})`)
      : "e2e latency n/a (no sink metrics or no writes yet)";
    const figure = (value, label, cls) =>
      el("div", { class: "figure" }, el("div", { class: "value " + (cls || "") }, value), el("div", { class: "label" }, label));
    return el(
      "article",
      { class: "card", "data-flow": flow.flow, "data-status": flow.status, "data-health": flow.health },
      el("div", { class: "card-head" },
        el("h3", {}, title(flow.flow)),
        el("span", { class: "pill" }, flow.status)),
      el("p", { class: "names" }, flow.flow),
      el("div", { class: "figures" },
        figure(fmtInt(flow.lag), "messages behind", "flow-lag"),
        figure(fmtSeconds(flow.lag_seconds), "oldest waiting", "flow-lag-seconds"),
        figure(flow.dead_letters === null ? "n/a" : fmtInt(flow.dead_letters), "dead letters", "flow-dlq")),
      el("p", lat ? { class: "latency", "data-p50": lat.p50, "data-p95": lat.p95, "data-p99": lat.p99, "data-count": lat.count } : { class: "latency" }, latency),
      chart(flow.history, "lag of " + flow.flow + " over time")
    );
  }

  function partitionRow(group, p) {
    return el("tr",
      { "data-group": group.group, "data-topic": p.topic, "data-partition": p.partition, "data-lag": p.lag, "data-lagging": p.lag > 0 ? 1 : 0 },
      el("td", {}, p.topic),
      el("td", { class: "num" }, p.partition),
      el("td", { class: "num committed" }, p.committed === null ? "–" : fmtInt(p.committed)),
      el("td", { class: "num end" }, fmtInt(p.end)),
      el("td", { class: "num lag" }, fmtInt(p.lag)),
      el("td", { class: "num lag-seconds", title: "from: " + p.lag_seconds_method }, fmtSeconds(p.lag_seconds)),
      el("td", {}, el("span", { class: "status " + p.status }, p.status + (p.complete ? "" : "*"))),
      el("td", { class: "muted" }, p.client_id || p.member_host || "–"));
  }

  // A topic whose partitions are all caught up and OK folds into one row, unless asked.
  function topicRows(group, partitions) {
    const quiet = partitions.every((p) => p.lag === 0 && ["OK", "NOTFOUND"].includes(p.status));
    if (!quiet || showAll.checked) return partitions.map((p) => partitionRow(group, p));
    const first = partitions[0];
    const end = partitions.reduce((sum, p) => sum + p.end, 0);
    const owners = new Set(partitions.map((p) => p.client_id).filter(Boolean));
    return [el("tr", { class: "folded", "data-folded-topic": first.topic },
      el("td", {}, first.topic),
      el("td", { class: "num muted" }, partitions.length > 1 ? `0–${partitions.length - 1}` : "0"),
      el("td", { class: "num muted" }, "caught up"),
      el("td", { class: "num end" }, fmtInt(end)),
      el("td", { class: "num lag" }, "0"),
      el("td", { class: "num" }, fmtSeconds(0)),
      el("td", {}, el("span", { class: "status " + first.status }, first.status)),
      el("td", { class: "muted" }, owners.size ? [...owners].join(", ") : "–"))];
  }

  function groupSection(group) {
    const byTopic = new Map();
    for (const p of group.partitions) {
      if (!byTopic.has(p.topic)) byTopic.set(p.topic, []);
      byTopic.get(p.topic).push(p);
    }
    const rows = [...byTopic.values()].flatMap((parts) => topicRows(group, parts));
    const table = el("table", {},
      el("thead", {}, el("tr", {},
        el("th", {}, "topic"), el("th", { class: "num" }, "partition"), el("th", { class: "num" }, "committed"),
        el("th", { class: "num" }, "end"), el("th", { class: "num" }, "lag"), el("th", { class: "num" }, "lag s"),
        el("th", {}, "status"), el("th", {}, "owner"))),
      el("tbody", {}, ...rows));
    const details = el("details",
      { class: "group", "data-group": group.group, "data-status": group.status, "data-health": healthOf(group.status) },
      el("summary", {},
        el("span", { class: "pill" }, group.status),
        el("span", { class: "group-name" }, group.group),
        el("span", { class: "group-meta" },
          `${group.state.toLowerCase()} · ${group.members} member(s) · lag ${fmtInt(group.sum_lag)} · max ${fmtSeconds(group.max_lag_seconds)}`)),
      table);
    details.open = openGroups.has(group.group) || (!closedGroups.has(group.group) && group.sum_lag > 0);
    details.addEventListener("toggle", () => {
      (details.open ? openGroups : closedGroups).add(group.group);
      (details.open ? closedGroups : openGroups).delete(group.group);
    });
    return details;
  }
  const openGroups = new Set(), closedGroups = new Set();
  const showAll = document.getElementById("show-all");
  let lastData = null, lastDead = null;
  showAll.addEventListener("change", () => lastData && render(lastData, lastDead));

  function deadLetterRows(entries) {
    return entries.slice(0, 10).map((d) =>
      el("tr", {},
        el("td", {}, d.failed_at ? d.failed_at.replace("T", " ").slice(0, 19) : "–"),
        el("td", {}, d.stage), el("td", {}, d.flow || "–"),
        el("td", {}, d.record ? el("a", { href: "/links/" + encodeURIComponent(d.record), title: "why is this record in this state" }, d.record) : "–"),
        el("td", {}, d.field || "–"), el("td", {}, d.reason)));
  }

  // First, in red, a system that refuses the sync's credentials (from the raw figures: it
  // may publish no allowance then). Then one block per system: a sentence, a bar of the
  // allowance with the used part, the reserve kept for other integrations at its end, and
  // the paused state when there is one.
  function apiPanel(budgets, usage) {
    const box = el("div", {});
    for (const row of usage) {
      if (row.name === "sfpms_api_credentials_refused" && row.value >= 1) {
        box.append(el("div", { class: "alert", "data-refused": row.labels.system },
          `${row.labels.system} refuses the sync's credentials (HTTP 401): check the token; the sync keeps retrying`));
      }
    }
    if (!budgets.length) {
      if (!box.childNodes.length) {
        box.append(el("p", { class: "muted" }, "unknown: the CDC and sink processes publish no sfpms_api_* figures"));
      }
      return box;
    }
    for (const b of budgets) {
      const used = b.share === null ? 0 : Math.min(100, b.share * 100);
      const reserve = b.reserve_share === null ? 0 : Math.min(100, b.reserve_share * 100);
      const bar = el("div", { class: "budget-bar", role: "img", "aria-label": b.words },
        el("span", { class: "used", style: `width:${used.toFixed(2)}%` }),
        reserve > 0 ? el("span", { class: "reserve", style: `width:${reserve.toFixed(2)}%` }) : null);
      box.append(el("div", { class: "budget", "data-system": b.system, "data-paused": b.paused ? 1 : 0 },
        el("p", { class: "budget-words" + (b.paused ? " paused" : "") }, b.words),
        b.limit ? bar : null,
        b.limit ? el("p", { class: "budget-scale muted" },
          `${fmtInt(b.used)} used` + (b.reserve ? ` · reserve ${fmtInt(b.reserve)}` : "") + ` · allowance ${fmtInt(b.limit)}`) : null));
    }
    return box;
  }

  // -- refresh loop --------------------------------------------------------------------

  async function api(path) {
    const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
    if (sessionEnded(response)) throw new Error("the session ended; log in again");
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function render(data, dead) {
    lastData = data;
    lastDead = dead;
    const banner = document.getElementById("banner");
    const problems = [];
    if (data.sampler.last_error) problems.push("last poll failed: " + data.sampler.last_error);
    banner.hidden = problems.length === 0;
    banner.textContent = problems.join(" · ");
    if (!data.ready) return false;

    document.getElementById("cluster").textContent =
      `${data.cluster}` + (data.prefix ? ` · prefix ${data.prefix}` : "");
    document.getElementById("stamp").textContent = "sampled " + fmtTime(data.taken_at) +
      ` · every ${data.sampler.interval_s}s`;
    const rank = { unknown: 0, ok: 1, warn: 2, error: 3 };
    const overall = data.flows.reduce((w, f) => (rank[f.health] > rank[w] ? f.health : w), "unknown");
    const pill = document.getElementById("overall");
    pill.dataset.health = overall;
    pill.textContent = { ok: "all flows healthy", warn: "attention", error: "failing", unknown: "not started" }[overall];

    document.getElementById("flows").replaceChildren(...data.flows.map(flowCard));
    document.getElementById("groups").replaceChildren(...data.groups.map(groupSection));
    document.getElementById("dlq-count").textContent = fmtInt(data.dlq.size);
    const link = document.getElementById("dlq-link");
    link.href = "/api/deadletters";
    document.querySelector("#dlq-table tbody").replaceChildren(...deadLetterRows(dead.entries));
    document.getElementById("api").replaceChildren(apiPanel(data.api_budget || [], data.api_usage || []));
    document.getElementById("targets").replaceChildren(
      ...Object.entries(data.metrics_targets).map(([name, t]) =>
        el("li", {}, el("span", { class: "dot " + (t.up ? "up" : "down") }), `${name}: ${t.url}`)));
    return true;
  }

  async function refresh() {
    try {
      const [data, dead] = await Promise.all([api("/api/overview"), api("/api/deadletters?limit=10")]);
      if (render(data, dead)) document.body.dataset.ready = "1";
    } catch (err) {
      const banner = document.getElementById("banner");
      banner.hidden = false;
      banner.textContent = "cannot reach the dashboard API: " + err.message;
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
