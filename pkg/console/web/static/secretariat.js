// The secretariat's view: the delivery matrix of the bulletins followed,
// the most recent ones and every overdue one × member states, kept current
// from the audit reports and the escalations stream; per-state statistics
// and, per state, histograms of delivery and acknowledgement times for the
// precedence chosen (charts.js), fetched again whenever the matrix changes; the audit
// log's checkpoint and a verify button whose checks run in the console's
// server.
"use strict";
(function () {
  const { el, text, rpc, post, precedence, when } = IANT;
  const $ = (id) => document.getElementById(id);
  const KEY = "iant-followed";
  const RECENT = 30; // rows of the most recent bulletins
  const overdue = new Map(); // origin/id/state -> OverdueItem
  let reports = [];
  let matrixSig = "";
  let lastStats = null; // the last GetStats answer
  const PREC_KEY = "iant-chart-precedence";

  function followed() {
    try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }
  function follow(origin, id) {
    const f = followed().filter((x) => !(x.origin === origin && x.id === id));
    f.unshift({ origin, id });
    localStorage.setItem(KEY, JSON.stringify(f.slice(0, 50)));
  }
  // cellState is what the matrix shows of one recipient.
  function cellState(r, rep) {
    if (r.revokedTime) return "revoked";
    if (r.acknowledgeTime) return "acknowledged";
    if (r.escalateTime || r.revocationEscalateTime || overdue.has(rep.origin + "/" + rep.id + "/" + r.state)) return "overdue";
    if (r.readTime) return "read";
    if (r.deliverTime) return "delivered";
    return "pending";
  }
  function renderMatrix() {
    const states = [...new Set(reports.flatMap((rep) => (rep.recipients || []).map((r) => r.state)))].sort();
    const head = $("matrix").tHead.rows[0];
    while (head.cells.length > 1) head.deleteCell(1);
    for (const s of states) head.append(el("th", "", s));
    const tb = $("matrix").tBodies[0];
    tb.replaceChildren();
    for (const rep of reports) {
      const tr = el("tr");
      tr.dataset.id = rep.id;
      tr.append(el("th", "", rep.origin + " " + rep.id + " · " + precedence(rep.precedence) + (rep.revision > 1 ? " r" + rep.revision : "")));
      for (const s of states) {
        const r = (rep.recipients || []).find((x) => x.state === s);
        if (!r) { tr.append(el("td", "cell none", "")); continue; }
        const st = cellState(r, rep);
        const td = el("td", "cell " + st, I18N.t("cell." + st));
        td.dataset.state = s;
        td.dataset.status = st;
        td.title = s + ": " + [r.deliverTime && "delivered " + when(r.deliverTime), r.acknowledgeTime && "acknowledged " + when(r.acknowledgeTime) + " " + (r.acknowledgedBy || "")].filter(Boolean).join(", ");
        tr.append(td);
      }
      tb.append(tr);
    }
  }
  // refresh rebuilds the matrix: the bulletins followed first, then the
  // most recent ones (ListReports, newest first), then any other with an
  // overdue acknowledgement; each bulletin once.
  async function refresh() {
    try {
      const od = await rpc("ListOverdue", {});
      overdue.clear();
      for (const it of od.items || []) overdue.set(it.origin + "/" + it.bulletinId + "/" + it.state, it);
      renderOverdue();
      const out = [], seen = new Set();
      const add = (rep) => { const k = rep.origin + "/" + rep.id; if (!seen.has(k)) { seen.add(k); out.push(rep); } };
      for (const r of followed()) {
        try { add((await rpc("GetBulletinReport", r)).report); } catch (e) { /* not logged yet */ }
      }
      for (const rep of (await rpc("ListReports", { pageSize: RECENT })).reports || []) add(rep);
      for (const it of overdue.values()) {
        if (seen.has(it.origin + "/" + it.bulletinId)) continue;
        try { add((await rpc("GetBulletinReport", { origin: it.origin, id: it.bulletinId })).report); } catch (e) { /* not logged yet */ }
      }
      reports = out;
      renderMatrix();
      // A change of the matrix (a delivery, an acknowledgement) is a
      // change of the statistics: fetch them now, not at the next tick.
      const sig = reports.map((rep) => rep.origin + rep.id + (rep.recipients || []).map((r) => r.state + cellState(r, rep)).join()).join("|");
      if (sig !== matrixSig) { matrixSig = sig; stats(); }
    } catch (err) {
      text($("verify-result"), IANT.errorText(err));
    }
  }
  function renderOverdue() {
    const ul = $("overdue");
    ul.replaceChildren();
    for (const it of overdue.values()) {
      ul.append(el("li", it.escalateTime ? "escalated" : "", it.origin + " " + it.bulletinId + " → " + it.state + " · " + precedence(it.precedence) +
        " · due " + when(it.dueTime) + (it.escalateTime ? " · escalated " + when(it.escalateTime) : "") + (it.revocation ? " · revocation" : "")));
    }
  }
  // renderCharts draws the histograms of the precedence chosen.
  function renderCharts() {
    if (lastStats) IANTCharts.render($("charts"), lastStats, $("chart-precedence").value);
  }
  async function stats() {
    const fmt = (d) => (d ? Number(String(d).replace("s", "")).toFixed(1) + " s" : "—");
    const bar = (d, max) => { const m = el("meter"); m.min = 0; m.max = max || 1; m.value = d ? Number(String(d).replace("s", "")) : 0; return m; };
    try {
      const resp = await rpc("GetStats", { startTime: new Date(Date.now() - 30 * 864e5).toISOString(), endTime: new Date().toISOString() });
      lastStats = resp;
      renderCharts();
      const tb = $("stats").tBodies[0];
      tb.replaceChildren();
      const rows = resp.states || [];
      const max = Math.max(1, ...rows.map((s) => Number(String(s.acknowledgeP95 || s.deliveryP95 || "0").replace("s", ""))));
      for (const s of rows) {
        const tr = el("tr");
        const d = el("td", "", fmt(s.deliveryP50) + " / " + fmt(s.deliveryP95)); d.append(bar(s.deliveryP95, max));
        const a = el("td", "", fmt(s.acknowledgeP50) + " / " + fmt(s.acknowledgeP95)); a.append(bar(s.acknowledgeP95, max));
        tr.append(el("td", "", s.state), el("td", "", String(s.released || 0)), el("td", "", String(s.received || 0)), el("td", "", String(s.acknowledged || 0)), d, a);
        tb.append(tr);
      }
    } catch (err) { /* shown by refresh */ }
  }
  async function verify(bulletinId) {
    const out = $("verify-result");
    try {
      const r = await post("/api/verify", bulletinId ? { bulletinId } : {});
      text(out, (r.ok ? I18N.t("sec.verified") + ": " : I18N.t("sec.failed") + ": ") + r.message);
      out.dataset.ok = r.ok ? "1" : "0";
      if (r.ok) {
        const dl = $("checkpoint");
        dl.replaceChildren(el("dt", "", "Origin"), el("dd", "", r.origin), el("dt", "", I18N.t("sec.size")), el("dd", "", String(r.newSize)),
          el("dt", "", I18N.t("sec.root")), el("dd", "mono", r.root), el("dt", "", I18N.t("sec.time")), el("dd", "", when(r.time)));
      }
    } catch (err) {
      text(out, IANT.errorText(err));
    }
  }
  $("track-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const origin = $("track-origin").value.trim().toUpperCase(), id = $("track-id").value.trim().toUpperCase();
    if (origin && id) { follow(origin, id); refresh(); }
  });
  $("verify-form").addEventListener("submit", (e) => { e.preventDefault(); verify($("verify-id").value.trim().toUpperCase()); });
  const es = new EventSource(IANT.streamURL("/api/escalations"));
  es.addEventListener("escalation", () => { refresh(); });
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) IANT.checkSession(); };
  const precSel = $("chart-precedence");
  IANT.fillEnum(precSel, IANT.PRECEDENCES, IANT.precedence);
  precSel.value = IANT.PRECEDENCES.includes(localStorage.getItem(PREC_KEY)) ? localStorage.getItem(PREC_KEY) : IANT.PRECEDENCES[0];
  precSel.addEventListener("change", () => { localStorage.setItem(PREC_KEY, precSel.value); renderCharts(); });
  $("chart-form").addEventListener("submit", (e) => e.preventDefault());
  document.addEventListener("iant-lang", () => { renderMatrix(); IANT.relabel(precSel, IANT.precedence); renderCharts(); });
  refresh(); stats(); verify("");
  setInterval(refresh, 2000);
  setInterval(stats, 15000);
})();
