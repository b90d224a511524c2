// The bulletin page: every field, indicators as a table, the revision
// history with what changed, the thread, and the person's actions. The
// node decides every action; refusals are shown beside the field named.
"use strict";
(function () {
  const { el, text, rpc, tlpBadge, precedence, category, when, bulletinURL, showError, clearErrors } = IANT;
  const q = new URLSearchParams(location.search);
  const ref = { id: q.get("id") || "", origin: q.get("origin") || "" };
  const $ = (id) => document.getElementById(id);
  let current = null;

  // draftOf is the content of a bulletin, as a draft for ReviseBulletin.
  function draftOf(b) {
    const d = {};
    for (const k of ["expireTime", "precedence", "category", "sourceGrading", "language", "marking", "releasability", "caveats", "title", "body", "indicators"]) {
      if (b[k] !== undefined) d[k] = structuredClone(b[k]);
    }
    return d;
  }
  function releasability(r) {
    if (!r) return "";
    if (r.all) return I18N.t("post.all");
    return [...(r.regions || []), ...(r.states || [])].join(", ");
  }
  function field(dl, key, value) {
    if (value === undefined || value === "" || value === null) return;
    dl.append(el("dt", "", I18N.t(key)), el("dd", "", value));
  }
  function renderFields(sb) {
    const b = sb.bulletin || {};
    const banner = $("tlp");
    banner.replaceChildren(tlpBadge(b.marking));
    banner.className = "tlp-banner tlp-" + String(b.marking || "").replace("MARKING_", "").toLowerCase();
    const shown = IANT.shownText(b);
    text($("title"), shown.title || b.id);
    const ln = $("lang-note");
    ln.dataset.shown = shown.lang;
    text(ln, IANT.languageNote(shown));
    $("title").dir = "auto";
    const dl = $("fields");
    dl.replaceChildren();
    field(dl, "filter.precedence", precedence(b.precedence));
    field(dl, "filter.category", b.category ? category(b.category) : "");
    field(dl, "f.origin", b.origin);
    field(dl, "f.author", b.author);
    field(dl, "f.created", when(b.createTime));
    field(dl, "f.expires", when(b.expireTime));
    const g = b.sourceGrading;
    if (g) field(dl, "f.grading", String(g.reliability || "").replace("SOURCE_RELIABILITY_", "") + String(g.credibility || "").replace("INFORMATION_CREDIBILITY_", " ").toLowerCase());
    field(dl, "f.language", String(b.language || "").replace("LANGUAGE_", "").toLowerCase());
    field(dl, "f.caveats", (b.caveats || []).map((c) => c.replace("CAVEAT_", "").toLowerCase()).join(", "));
    if (b.confidentialAudience) {
      // Only what the node returned: for a recipient, its own state.
      field(dl, "f.audience", I18N.t("aud.confidential") + " — " + I18N.t("aud.recipients") + " " + (b.recipients || []).join(", "));
    } else {
      field(dl, "f.release", releasability(b.releasability));
    }
    field(dl, "f.revision", b.revision ? String(b.revision) : "");
    field(dl, "f.ack", sb.acknowledgeTime ? when(sb.acknowledgeTime) + " " + (sb.acknowledgedBy || "") : "");
    text($("body"), shown.body || "");
    $("body").dir = "auto";
    const note = $("state-note");
    note.hidden = true;
    if (sb.state === "BULLETIN_STATE_REVOKED") {
      const r = b.revocation || {};
      text(note, I18N.t("state.revoked") + " " + when(r.revokeTime) + " — " + (r.reason || ""));
      note.hidden = false;
    } else if (sb.state === "BULLETIN_STATE_EXPIRED") {
      text(note, I18N.t("state.expired"));
      note.hidden = false;
    }
    const tb = $("indicators").tBodies[0];
    tb.replaceChildren();
    for (const i of b.indicators || []) {
      const tr = el("tr");
      tr.append(el("td", "", String(i.type || "").replace("INDICATOR_TYPE_", "").toLowerCase()), el("td", "mono", i.value), el("td", "", i.description || ""));
      tb.append(tr);
    }
  }
  // diff lists the fields that changed from a to b, old and new values.
  function diff(a, b) {
    const out = [];
    for (const k of ["title", "body", "precedence", "category", "marking", "releasability", "caveats", "indicators", "expireTime", "sourceGrading"]) {
      const x = JSON.stringify(a[k] ?? null), y = JSON.stringify(b[k] ?? null);
      if (x !== y) out.push([k, x, y]);
    }
    return out;
  }
  function renderHistory(history, latest) {
    const ol = $("history");
    ol.replaceChildren();
    const all = [...(history || []), latest];
    all.forEach((b, i) => {
      const li = el("li", "", I18N.t("b.revision") + " " + (b.revision || i + 1) + " — " + when(b.createTime));
      if (i > 0) {
        const ul = el("ul", "diff");
        for (const [k, x, y] of diff(all[i - 1], b)) {
          const d = el("li");
          d.append(el("strong", "", k + " " + I18N.t("b.changed") + ": "), el("del", "", x), document.createTextNode(" → "), el("ins", "", y));
          ul.append(d);
        }
        li.append(ul);
      }
      ol.append(li);
    });
  }
  function renderThread(thread) {
    const ol = $("thread");
    ol.replaceChildren();
    for (const sb of thread || []) {
      const b = sb.bulletin || {};
      const li = el("li", "reply");
      const shown = IANT.shownText(b);
      const a = el("a", "", shown.title || b.id);
      a.href = bulletinURL(b);
      li.append(el("span", "origin", b.origin), el("span", "kind", String((b.reply || {}).kind || "").replace("REPLY_KIND_", "").toLowerCase()), a,
        el("p", "body", shown.body || ""), el("time", "when", when(b.createTime)));
      ol.append(li);
    }
  }
  function showActions(b) {
    const mine = b.origin === IANT.myState;
    const fp = IANT.role === "focal-point";
    $("ack").hidden = mine || !fp;
    $("forward-form").hidden = !fp || mine;
    document.querySelectorAll(".origin-only").forEach((f) => (f.hidden = !(fp && mine)));
    if (mine) { $("revise-form").elements.title.value = b.title || ""; $("revise-form").elements.body.value = b.body || ""; }
  }
  async function load() {
    try {
      const resp = await rpc("GetBulletin", { id: ref.id, origin: ref.origin, history: true });
      current = resp.bulletin;
      I18N.adoptNodeLanguage(current.preferredLanguage);
      const b = current.bulletin || {};
      ref.origin = b.origin || ref.origin;
      renderFields(current);
      renderHistory(resp.history, b);
      renderThread(resp.thread);
      showActions(b);
    } catch (err) {
      text($("title"), IANT.errorText(err));
    }
  }
  // act runs one action, shows the result or the error, and reloads.
  async function act(form, method, req) {
    const out = $("action-result");
    clearErrors(form);
    text(out, "");
    try {
      await rpc(method, req);
      text(out, I18N.t(method === "AcknowledgeBulletin" ? "b.acked" : "b.done"));
      out.dataset.ok = method;
      await load();
    } catch (err) {
      showError(form, err, out);
    }
  }
  $("ack").addEventListener("click", () => act(null, "AcknowledgeBulletin", { id: ref.id, origin: ref.origin }));
  $("reply-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const req = { id: ref.id, origin: ref.origin, kind: f.kind.value, to: f.to.value, title: f.title.value, body: f.body.value };
    if (f.kind.value === "REPLY_KIND_SIGHTING") req.sighting = { kind: "SIGHTING_KIND_SEEN", place: f.place.value, seenTime: new Date().toISOString() };
    act(e.target, "ReplyToBulletin", req);
  });
  $("forward-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.target.elements;
    if (e.submitter && e.submitter.value === "consent") {
      act(e.target, "RequestForwardConsent", { id: ref.id, origin: ref.origin, targetState: f.target.value, reason: f.reason.value });
    } else {
      act(e.target, "ForwardBulletin", { id: ref.id, origin: ref.origin, targetState: f.target.value });
    }
  });
  $("revise-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const d = draftOf(current.bulletin || {});
    d.title = e.target.elements.title.value;
    d.body = e.target.elements.body.value;
    act(e.target, "ReviseBulletin", { id: ref.id, bulletin: d });
  });
  $("revoke-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(e.target, "RevokeBulletin", { id: ref.id, reason: e.target.elements.reason.value });
  });
  document.addEventListener("iant-lang", () => { if (current) load(); });
  IANT.whoami().then((me) => {
    for (const r of me.regions) for (const s of r.states) {
      const o = el("option", "", s.code + " — " + s.name); o.value = s.code; $("forward-form").elements.target.appendChild(o);
    }
  });
  load();
})();
