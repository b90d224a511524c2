// Shared helpers of the console's pages. Every text of a bulletin comes
// from another state and is hostile: it enters the page only through
// text(), which sets textContent after making control and bidirectional
// formatting characters visible. No page ever sets innerHTML.
"use strict";
(function () {
  // The session key: kept by the login page in localStorage, which the
  // browser keeps for this origin (host and port) only. Every API request
  // carries it; the session cookie alone is refused there.
  const KEY_NAME = "iant.console.key";
  const key = localStorage.getItem(KEY_NAME) || "";
  if (!key) location.replace("/login");
  const keyHeaders = { "X-IANT-Session-Key": key };
  const role = document.querySelector('meta[name="iant-role"]').content;
  const myState = document.querySelector('meta[name="iant-state"]').content;

  // safe shows C0/C1 controls, DEL, bidi overrides and isolates, zero-width
  // and other format characters as \u{XXXX}, keeping newlines and tabs.
  function safe(s) {
    return String(s ?? "").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g,
      (c) => "\\u{" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "}");
  }
  function text(el, s) { el.textContent = safe(s); return el; }
  // el makes an element with optional class and (safe) text.
  function el(tag, cls, s) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (s !== undefined) text(e, s);
    return e;
  }

  // APIError is an error answer of the console or the node.
  class APIError extends Error {
    constructor(status, body) {
      super(body.message || String(status));
      this.status = status; this.code = body.code; this.field = body.field || ""; this.rule = body.rule || "";
    }
  }
  // rpc makes one node call through the console's server.
  async function rpc(method, req) {
    const r = await fetch("/api/rpc/" + method, {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json" }, keyHeaders),
      body: JSON.stringify(req || {}),
    });
    const body = await r.json().catch(() => ({ message: "bad answer" }));
    if (r.status === 401) sessionEnded();
    if (!r.ok) throw new APIError(r.status, body);
    return body;
  }
  async function post(path, req) {
    const r = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json" }, keyHeaders),
      body: JSON.stringify(req || {}),
    });
    const body = await r.json().catch(() => ({ message: "bad answer" }));
    if (r.status === 401) sessionEnded();
    if (!r.ok) throw new APIError(r.status, body);
    return body;
  }

  // errorText is an error for the person: a sentence in their language,
  // then the node's own words (code, message, rule) as text.
  function errorText(err) {
    if (err.status === 401) return I18N.t("err.session");
    let s = I18N.t("err.node") + " — " + (err.code ? err.code + ": " : "") + err.message;
    if (err.rule) s += " (rule " + err.rule + ")";
    return s;
  }
  // showError puts the error beside the control of form whose data-field
  // names the field the node named (or a suffix of it), else into fallback.
  function showError(form, err, fallback) {
    clearErrors(form);
    const f = err.field || "";
    let target = null;
    if (f && form) {
      for (const c of form.querySelectorAll("[data-field]")) {
        const d = c.dataset.field;
        if (f === d || f.endsWith("." + d) || f.startsWith(d + ".") || d.endsWith("." + f)) { target = c; break; }
      }
    }
    if (target) {
      const box = target.closest(".field, label, fieldset") || target.parentElement;
      let span = box.querySelector(".err");
      if (!span) { span = el("span", "err"); span.setAttribute("role", "alert"); box.appendChild(span); }
      text(span, errorText(err));
      target.setAttribute("aria-invalid", "true");
      return;
    }
    if (fallback) text(fallback, errorText(err));
  }
  function clearErrors(form) {
    if (!form) return;
    form.querySelectorAll(".err").forEach((e) => (e.textContent = ""));
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  }

  // Enum helpers: the wire names of the protojson answers.
  const slug = (v, prefix) => String(v || "").replace(prefix, "").toLowerCase();
  const precedence = (v) => I18N.t("prec." + slug(v, "PRECEDENCE_"));
  const category = (v) => I18N.t("cat." + slug(v, "CATEGORY_"));
  // tlp returns the TLP label of a marking, e.g. TLP:AMBER+STRICT.
  function tlp(v) {
    const m = slug(v, "MARKING_");
    return m ? "TLP:" + m.toUpperCase().replace("_STRICT", "+STRICT") : "TLP:?";
  }
  // tlpBadge is an element in the FIRST TLP colours (style.css).
  function tlpBadge(v) { return el("span", "tlp tlp-" + slug(v, "MARKING_"), tlp(v)); }
  function when(ts) {
    if (!ts) return "";
    const d = new Date(ts);
    return isNaN(d) ? String(ts) : d.toLocaleString(I18N.lang());
  }
  // bulletinURL is the console page of a bulletin.
  function bulletinURL(b) {
    return "/bulletin?id=" + encodeURIComponent(b.id || "") + "&origin=" + encodeURIComponent(b.origin || "");
  }
  function fillEnum(select, values, label) {
    for (const v of values) { const o = el("option", "", label(v)); o.value = v; o.dataset.enum = v; select.appendChild(o); }
  }
  function relabel(select, label) {
    select.querySelectorAll("option[data-enum]").forEach((o) => text(o, label(o.dataset.enum)));
  }
  const PRECEDENCES = ["PRECEDENCE_FLASH", "PRECEDENCE_IMMEDIATE", "PRECEDENCE_PRIORITY", "PRECEDENCE_ROUTINE"];
  const MARKINGS = ["MARKING_CLEAR", "MARKING_GREEN", "MARKING_AMBER", "MARKING_AMBER_STRICT", "MARKING_RED"];
  const CATEGORIES = ["FOREIGN_TERRORIST_FIGHTER", "KNOWN_OR_SUSPECTED_TERRORIST", "ARMS_TRAFFICKING", "CBRN",
    "CYBER_CRITICAL_INFRASTRUCTURE", "CROWDED_SPACES", "TERRORISM_FINANCING", "VIOLENT_EXTREMISM", "BIOSECURITY",
    "BORDER_DOCUMENT_FRAUD", "DISINFORMATION", "OTHER"].map((c) => "CATEGORY_" + c);

  // langCode is a Language enum's code, e.g. LANGUAGE_PT -> pt.
  const langCode = (v) => slug(v, "LANGUAGE_");
  // shownText picks a bulletin's title and body in the person's language
  // (the console's choice): the translation into it when the bulletin has
  // one, else the original. others lists the other languages it has.
  function shownText(b) {
    const pref = I18N.lang();
    const orig = { lang: langCode(b.language), title: b.title, body: b.body, original: true, by: b.origin || "" };
    const all = [orig, ...(b.translations || []).map((t) => ({ lang: langCode(t.language), title: t.title, body: t.body, original: false, by: t.by || "" }))];
    const shown = (pref !== orig.lang && all.find((t) => !t.original && t.lang === pref)) || orig;
    return Object.assign({}, shown, { others: all.filter((t) => t !== shown) });
  }
  // languageNote says which language is shown and which others exist,
  // e.g. "shown in pt (translation by BR) · also in es (original)".
  function languageNote(s) {
    const what = (t) => t.lang + " (" + (t.original ? I18N.t("lang.original") : I18N.t("lang.translation") + " " + t.by) + ")";
    let n = I18N.t("lang.shown") + " " + what(s);
    if (s.others.length) n += " · " + I18N.t("lang.also") + " " + s.others.map(what).join(", ");
    return n;
  }

  let me = null;
  async function whoami() {
    if (!me) {
      const r = await fetch("/api/me", { credentials: "same-origin", headers: keyHeaders });
      if (r.status === 401) { sessionEnded(); throw new APIError(401, {}); }
      me = await r.json();
    }
    return me;
  }

  // sessionEnded shows, once, that the session is over (logged out in
  // another tab, past its lifetime, or the console restarted).
  function sessionEnded() {
    const box = document.getElementById("session-ended");
    if (!box || !box.hidden) return;
    text(box, I18N.t("err.session"));
    box.hidden = false;
  }
  // checkSession asks the server whether the session still lives (after
  // an event stream closed for good) and says so when it does not.
  function checkSession() {
    return fetch("/api/me", { credentials: "same-origin", headers: keyHeaders })
      .then((r) => { if (r.status === 401) sessionEnded(); })
      .catch(() => {});
  }
  // streamURL is the URL of an event stream with the session key (an
  // EventSource cannot send a header).
  function streamURL(path, params) {
    const q = new URLSearchParams(params || {});
    q.set("key", key);
    return path + "?" + q.toString();
  }
  // logout ends the session at the server and forgets its key here.
  async function logout() {
    try { await post("/api/logout", {}); } catch (e) { /* ended anyway below */ }
    localStorage.removeItem(KEY_NAME);
    location.replace("/login#out");
  }

  document.addEventListener("DOMContentLoaded", () => {
    whoami().then((m) => { if (m && m.person) text(document.getElementById("person"), m.person); }).catch(() => {});
    document.getElementById("logout").addEventListener("click", logout);
    const sel = document.getElementById("lang");
    sel.value = I18N.lang();
    sel.addEventListener("change", () => I18N.setLang(sel.value));
    I18N.apply();
  });

  window.IANT = { safe, text, el, rpc, post, APIError, errorText, showError, clearErrors, precedence, category, tlp, tlpBadge,
    when, bulletinURL, streamURL, checkSession, fillEnum, shownText, languageNote, langCode, relabel, whoami, role, myState, PRECEDENCES, MARKINGS, CATEGORIES };
})();
