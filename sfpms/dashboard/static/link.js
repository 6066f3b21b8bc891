"use strict";
// The page for one link: fetches /api/links/<id> once and renders it. Every value goes into
// the DOM through textContent, never as HTML.

(function () {
  // -- auth: as on the main page, the HttpOnly session cookie from the login form goes with
  // every request by itself; no token in the URL or in script-readable storage.
  const id = decodeURIComponent(location.pathname.split("/").pop());

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
  const show = (v) => (v === null || v === undefined ? "∅" : String(v));
  const when = (iso) => (iso ? iso.replace("T", " ").replace("+00:00", " UTC") : "–");

  function render(story) {
    const sf = story.salesforce;
    document.getElementById("title").textContent = `Salesforce ${sf.object} ${sf.id}`;
    document.getElementById("subtitle").textContent = story.links
      .map((l) => `${l.flow}: ${l.state} ↔ Custompms ${l.custompms_entity} ${l.custompms_id || "(not created yet)"}`)
      .join(" · ");
    const state = document.getElementById("state");
    const linked = story.links.every((l) => l.state === "linked");
    state.dataset.health = sf.deleted ? "error" : linked ? "ok" : "warn";
    state.textContent = sf.deleted ? "deleted in Salesforce" : linked ? "linked" : "not fully linked";

    const sides = story.links.filter((l) => Object.keys(l.custompms_known || {}).length);
    document.querySelector("#records thead").replaceChildren(el("tr", {},
      el("th", {}, "field"), el("th", {}, `Salesforce ${sf.id}`),
      ...sides.map((l) => el("th", {}, `Custompms ${l.custompms_entity} ${l.custompms_id}`))));
    const names = [...new Set([...Object.keys(sf.known), ...sides.flatMap((l) => Object.keys(l.custompms_known))])].sort();
    document.querySelector("#records tbody").replaceChildren(...names.map((name) =>
      el("tr", { "data-field": name }, el("td", {}, name),
        el("td", { class: "sf" }, name in sf.known ? show(sf.known[name]) : ""),
        ...sides.map((l) => el("td", { class: "pms" }, name in l.custompms_known ? show(l.custompms_known[name]) : "")))));

    document.querySelector("#provenance tbody").replaceChildren(...story.provenance.map((row) =>
      el("tr", { "data-field": row.field },
        el("td", {}, row.field), el("td", { class: "value" }, show(row.value)),
        el("td", { class: "side" }, row.side), el("td", { class: "who" }, row.who), el("td", {}, when(row.at)))));

    const c = story.counts;
    document.getElementById("counts").textContent =
      `${c.change} change(s) seen · ${c.write} write(s) issued · ${c.result} result(s) · ${c.dead_letter} dead letter(s)`;
    document.querySelector("#history tbody").replaceChildren(...story.history.map((e) =>
      el("tr", { class: "event " + e.kind, "data-kind": e.kind },
        el("td", {}, when(e.at)), el("td", {}, el("span", { class: "status " + e.kind }, e.kind.replace("_", " "))),
        el("td", { class: "summary" }, e.summary), el("td", { class: "muted" }, e.where))));
  }

  async function load() {
    const banner = document.getElementById("banner");
    try {
      const response = await fetch("/api/links/" + encodeURIComponent(id), { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) {
        location.assign("/login"); // the session ended
        return;
      }
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
      render(body);
      document.body.dataset.ready = "1";
    } catch (err) {
      banner.hidden = false;
      banner.textContent = "cannot show this link: " + err.message;
      document.body.dataset.ready = "error";
    }
  }

  load();
})();
