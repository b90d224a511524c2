// Latency histograms of the secretariat page: for each state, the
// delivery and acknowledgement times of the bulletins of one precedence
// (AuditService.GetStats), as small SVG bar charts. Everything is built
// with DOM calls (createElementNS, setAttribute, textContent through
// IANT.text); no markup is ever parsed. Each chart is an image whose
// accessible name says every count, with the same counts in a table.
"use strict";
(function () {
  const { el, text } = IANT;
  const SVG = "http://www.w3.org/2000/svg";
  const BAR = 30, GAP = 4, H = 70, TOP = 14, AXIS = 16; // px in the viewBox

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }
  // seconds reads a protojson Duration ("300s", "0.5s").
  const seconds = (d) => Number(String(d || "0").replace(/s$/, "")) || 0;
  // short is a bound as people say it: 15s, 5m, 4h.
  function short(s) {
    if (s >= 3600 && s % 3600 === 0) return s / 3600 + "h";
    if (s >= 60 && s % 60 === 0) return s / 60 + "m";
    return s + "s";
  }
  // bucketLabels are the buckets' names: ≤1s … ≤24h, >24h.
  function bucketLabels(bounds) {
    const b = (bounds || []).map(seconds);
    return b.map((s) => "≤" + short(s)).concat(b.length ? [">" + short(b[b.length - 1])] : []);
  }
  const counts = (dist, n) => Array.from({ length: n }, (_, i) => Number(((dist || {}).bucketCounts || [])[i] || 0));

  // histogram is one chart: bars of the counts, the bucket names below.
  function histogram(kind, title, labels, dist) {
    const n = labels.length, c = counts(dist, n), max = Math.max(1, ...c);
    const never = Number((dist || {}).never || 0);
    const w = n * (BAR + GAP);
    const root = svg("svg", { viewBox: "0 0 " + w + " " + (TOP + H + AXIS), class: "histogram", role: "img", "data-kind": kind });
    const parts = labels.map((l, i) => l + ": " + c[i]);
    root.setAttribute("aria-label", title + " — " + parts.join(", ") + "; " + I18N.t("chart.never") + ": " + never);
    root.append(text(svg("title"), title));
    c.forEach((v, i) => {
      const h = Math.round((v / max) * H), x = i * (BAR + GAP);
      const bar = svg("rect", { class: "bar", x, y: TOP + H - h, width: BAR, height: Math.max(h, v ? 1 : 0), "data-bucket": i, "data-count": v });
      bar.append(text(svg("title"), parts[i]));
      root.append(bar);
      if (v) root.append(text(svg("text", { class: "count", x: x + BAR / 2, y: TOP + H - h - 3 }), String(v)));
      root.append(text(svg("text", { class: "axis", x: x + BAR / 2, y: TOP + H + AXIS - 4 }), labels[i]));
    });
    root.append(svg("line", { class: "base", x1: 0, y1: TOP + H + 0.5, x2: w, y2: TOP + H + 0.5 }));
    return root;
  }

  // table is the charts' counts as text, for whoever cannot see them.
  function table(labels, p) {
    const t = el("table", "dist");
    const head = el("tr");
    head.append(el("th", "", I18N.t("chart.bucket")), el("th", "", I18N.t("chart.delivery")), el("th", "", I18N.t("chart.ack")));
    t.append(el("thead"), el("tbody"));
    t.tHead.append(head);
    const d = counts(p.delivery, labels.length), a = counts(p.acknowledgement, labels.length);
    labels.forEach((l, i) => {
      const tr = el("tr");
      tr.append(el("th", "", l), el("td", "", String(d[i])), el("td", "", String(a[i])));
      t.tBodies[0].append(tr);
    });
    const tr = el("tr");
    tr.append(el("th", "", I18N.t("chart.never")), el("td", "", String(Number((p.delivery || {}).never || 0))),
      el("td", "", String(Number((p.acknowledgement || {}).never || 0))));
    t.tBodies[0].append(tr);
    return t;
  }

  // render draws into box one figure per state of resp (a GetStats
  // answer) for precedence prec (e.g. "PRECEDENCE_FLASH").
  function render(box, resp, prec) {
    const labels = bucketLabels(resp && resp.bucketBounds);
    const figs = [];
    for (const s of (resp && resp.states) || []) {
      const p = (s.precedences || []).find((x) => x.precedence === prec) || { precedence: prec };
      const name = s.state + " · " + IANT.precedence(prec);
      const fig = el("figure", "chart");
      fig.dataset.state = s.state;
      fig.dataset.precedence = prec;
      fig.append(el("figcaption", "", name + " — " + I18N.t("sec.released") + " " + Number(p.released || 0) +
        " · " + I18N.t("chart.overdue") + " " + Number(p.overdue || 0)));
      const pair = el("div", "pair");
      for (const [kind, key, dist] of [["delivery", "chart.delivery", p.delivery], ["ack", "chart.ack", p.acknowledgement]]) {
        const one = el("div", "one");
        const title = I18N.t(key) + " · " + name;
        one.append(el("span", "chart-title", I18N.t(key)), histogram(kind, title, labels, dist));
        pair.append(one);
      }
      const det = el("details");
      det.append(el("summary", "", I18N.t("chart.table")), table(labels, p));
      fig.append(pair, det);
      figs.push(fig);
    }
    if (!figs.length) figs.push(el("p", "status", I18N.t("chart.none")));
    // Keep the tables a person opened open.
    const open = new Set([...box.querySelectorAll("figure.chart")].filter((f) => f.querySelector("details[open]")).map((f) => f.dataset.state));
    for (const f of figs) if (f.dataset.state && open.has(f.dataset.state)) f.querySelector("details").open = true;
    box.replaceChildren(...figs);
  }

  window.IANTCharts = { render, bucketLabels };
})();
