// The live feed: the newest page of ListBulletins first, older pages as
// the reader scrolls (the List resume token, newest first), and new bulletins, revisions,
// revocations and replies as server-sent events from the node's
// Subscribe, newest first, without reload.
"use strict";
(function () {
  const { el, text, rpc, tlpBadge, precedence, when, bulletinURL, fillEnum, relabel } = IANT;
  const list = document.getElementById("feed");
  const status = document.getElementById("status");
  const items = new Map(); // origin/id -> {li, sb}
  let nextToken = "", loading = false, source = null, gen = 0;

  const sel = (id) => document.getElementById(id);
  fillEnum(sel("f-precedence"), IANT.PRECEDENCES, precedence);
  fillEnum(sel("f-category"), IANT.CATEGORIES, IANT.category);
  fillEnum(sel("f-marking"), IANT.MARKINGS, IANT.tlp);

  // filter is the BulletinFilter (protojson) of the form's selects.
  function filter() {
    const f = {};
    const one = (id, key) => { const v = sel(id).value; if (v) f[key] = [v]; };
    one("f-origin", "origins"); one("f-region", "regions"); one("f-category", "categories");
    one("f-precedence", "precedences"); one("f-marking", "markings");
    return f;
  }
  function matchesText(sb) {
    const q = sel("f-text").value.trim().toLowerCase();
    if (!q) return true;
    const b = sb.bulletin || {};
    const tr = (b.translations || []).flatMap((t) => [t.title, t.body]);
    return [b.title, b.body, b.origin, b.id, ...tr].some((s) => String(s || "").toLowerCase().includes(q));
  }
  function stateOf(sb) {
    const b = sb.bulletin || {};
    if (sb.state === "BULLETIN_STATE_REVOKED" || b.revocation) return "revoked";
    if (sb.state === "BULLETIN_STATE_EXPIRED" || (b.expireTime && new Date(b.expireTime) < new Date())) return "expired";
    return "";
  }
  // render fills li with one bulletin; every field as text.
  function render(li, sb) {
    const b = sb.bulletin || {};
    li.replaceChildren();
    li.className = "item";
    if (b.precedence === "PRECEDENCE_FLASH") li.classList.add("flash");
    const st = stateOf(sb);
    if (st) li.classList.add(st);
    li.dataset.precedence = b.precedence || "";
    li.dataset.cursor = sb.cursor || "0";
    li.dataset.origin = b.origin || "";
    li.dataset.id = b.id || "";
    li.append(tlpBadge(b.marking), el("span", "prec", precedence(b.precedence)), el("span", "origin", b.origin));
    if (b.reply) li.append(el("span", "kind", I18N.t("b.reply")));
    const shown = IANT.shownText(b);
    li.dataset.lang = shown.lang;
    const a = el("a", "title", shown.title || b.id);
    a.href = bulletinURL(b);
    a.dir = "auto";
    li.append(a);
    if (b.confidentialAudience) li.append(el("span", "aud", I18N.t("aud.confidential")));
    if (st) li.append(el("span", "mark " + st, I18N.t("state." + st)));
    if (b.revision > 1) li.append(el("span", "rev", "r" + b.revision));
    li.append(el("time", "when", when(b.createTime)));
    if (shown.others.length) li.append(el("span", "lang-note", IANT.languageNote(shown)));
    li.hidden = !matchesText(sb);
  }
  // put inserts or replaces a bulletin, keeping the list newest first
  // (by cursor: a revision or revocation moves it to the top).
  function put(sb) {
    I18N.adoptNodeLanguage(sb.preferredLanguage);
    const b = sb.bulletin || {};
    const key = (b.origin || "") + "/" + (b.id || "");
    let it = items.get(key);
    if (it && Number(it.sb.cursor || 0) > Number(sb.cursor || 0)) return;
    if (!it) { it = { li: el("li") }; items.set(key, it); }
    it.sb = sb;
    render(it.li, sb);
    const c = Number(sb.cursor || 0);
    let before = null;
    for (const li of list.children) {
      if (li !== it.li && Number(li.dataset.cursor) < c) { before = li; break; }
    }
    list.insertBefore(it.li, before);
  }
  async function loadPage(g) {
    if (loading) return;
    loading = true;
    try {
      const resp = await rpc("ListBulletins", { filter: filter(), pageSize: 50, pageToken: nextToken, includeRevoked: true, newestFirst: true });
      if (g !== gen) return;
      (resp.bulletins || []).forEach(put);
      nextToken = resp.nextPageToken || "";
      sel("more").hidden = !nextToken;
    } catch (err) {
      text(status, IANT.errorText(err));
    } finally {
      loading = false;
    }
  }
  function alertFlash(sb) {
    const b = sb.bulletin;
    const box = sel("flash-alert");
    const a = sel("flash-link");
    text(a, (b.origin || "") + " — " + (IANT.shownText(b).title || b.id));
    a.href = bulletinURL(b);
    box.hidden = false;
    if (sel("f-sound").checked) beep();
  }
  function beep() {
    try {
      const ctx = new AudioContext();
      const o = ctx.createOscillator();
      o.frequency.value = 880;
      o.connect(ctx.destination);
      o.start();
      o.stop(ctx.currentTime + 0.4);
    } catch (e) { /* no audio: the visible alert remains */ }
  }
  function connect(g) {
    if (source) source.close();
    source = new EventSource(IANT.streamURL("/api/events", { filter: JSON.stringify(filter()) }));
    source.onopen = () => { if (g === gen) { text(status, I18N.t("feed.live")); status.dataset.live = "1"; } };
    source.onerror = () => {
      if (g !== gen) return;
      text(status, I18N.t("feed.reconnecting")); status.dataset.live = "";
      if (source.readyState === EventSource.CLOSED) IANT.checkSession();
    };
    source.addEventListener("bulletin", (e) => {
      if (g !== gen) return;
      const ev = JSON.parse(e.data);
      if (String(ev.kind).startsWith("MESSAGE_KIND_CONSENT")) { if (IANT.role === "focal-point") loadConsents(); return; }
      const sb = ev.bulletin || {};
      put(sb);
      const b = sb.bulletin || {};
      if (ev.kind === "MESSAGE_KIND_BULLETIN" && b.precedence === "PRECEDENCE_FLASH" && !stateOf(sb)) alertFlash(sb);
    });
  }
  function restart() {
    gen++;
    items.clear();
    list.replaceChildren();
    nextToken = "";
    connect(gen);
    loadPage(gen);
  }

  sel("f-text").addEventListener("input", () => items.forEach((it) => (it.li.hidden = !matchesText(it.sb))));
  for (const id of ["f-origin", "f-region", "f-category", "f-precedence", "f-marking"]) sel(id).addEventListener("change", restart);
  sel("filters").addEventListener("submit", (e) => e.preventDefault());
  sel("flash-dismiss").addEventListener("click", () => (sel("flash-alert").hidden = true));
  sel("more-btn").addEventListener("click", () => loadPage(gen));
  new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting) && nextToken) loadPage(gen); }).observe(sel("more"));
  document.addEventListener("iant-lang", () => {
    relabel(sel("f-precedence"), precedence); relabel(sel("f-category"), IANT.category);
    items.forEach((it) => render(it.li, it.sb));
    if (status.dataset.live === "1") text(status, I18N.t("feed.live"));
  });
  IANT.whoami().then((me) => {
    for (const r of me.regions) {
      const o = el("option", "", r.name); o.value = r.enum; sel("f-region").appendChild(o);
      for (const s of r.states) { const so = el("option", "", s.code + " — " + s.name); so.value = s.code; sel("f-origin").appendChild(so); }
    }
  });
  restart();
  if (IANT.role === "focal-point") loadConsents();

  // loadConsents lists the forward consents asked of this state's
  // bulletins, undecided, with grant and refuse buttons (focal points).
  async function loadConsents() {
    let resp;
    try { resp = await rpc("ListConsentRequests", {}); } catch (err) { return; }
    const ul = sel("consent-list");
    ul.replaceChildren();
    const reqs = (resp.requests || []).filter((r) => !r.decision || r.decision === "CONSENT_DECISION_UNSPECIFIED");
    sel("consents").hidden = reqs.length === 0;
    for (const r of reqs) {
      const li = el("li", "consent");
      li.dataset.id = r.id;
      const b = r.bulletin || {};
      const a = el("a", "", (b.origin || "") + " " + (b.id || ""));
      a.href = bulletinURL(b);
      li.append(el("span", "", (r.forwarder || "") + " " + I18N.t("consent.asks") + " " + (r.target || "") + ": "), a,
        el("span", "reason", " — " + (r.reason || "")));
      for (const [key, decision] of [["consent.grant", "CONSENT_DECISION_GRANTED"], ["consent.refuse", "CONSENT_DECISION_REFUSED"]]) {
        const btn = el("button", "", I18N.t(key));
        btn.type = "button";
        btn.dataset.decision = decision;
        btn.addEventListener("click", async () => {
          try {
            await rpc("DecideConsent", { requestId: r.id, decision });
            loadConsents();
          } catch (err) {
            text(sel("consent-result"), IANT.errorText(err));
          }
        });
        li.append(btn);
      }
      ul.append(li);
    }
  }
})();
