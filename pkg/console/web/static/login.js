// The login page. The one-time token is in the URL's fragment (#token=),
// which the browser never sends to a server: this script posts it to
// /api/login, keeps the session key it gets back in localStorage (which
// the browser keeps for this origin only: this host and this port) and
// goes to the person's first page. The fragment is cleared first, so the
// token stays neither in the address bar nor in the history. Without a
// token, or with one refused, the key of a session this browser holds is
// kept: any site can open this page, and must not end a session by it
// (sign-out forgets the key itself).
"use strict";
(function () {
  const KEY = "iant.console.key";
  document.addEventListener("DOMContentLoaded", async () => {
    I18N.apply();
    const status = document.getElementById("login-status");
    const help = document.getElementById("login-help");
    const fail = (key, detail) => {
      status.textContent = I18N.t(key) + (detail ? " — " + IANTsafe(detail) : "");
      help.hidden = false;
    };
    const m = /^#token=([A-Za-z0-9_-]{1,128})$/.exec(location.hash);
    const hash = location.hash;
    history.replaceState(null, "", "/login");
    if (!m) {
      fail(hash === "#out" ? "login.out" : "login.none");
      return;
    }
    try {
      const r = await fetch("/api/login", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: m[1] }),
      });
      const body = await r.json().catch(() => ({}));
      if (!r.ok || typeof body.key !== "string") { fail("login.failed", body.message); return; }
      localStorage.setItem(KEY, body.key);
      // home is a path of this console ("/", "/secretariat"), never another site.
      location.replace(/^\/[a-z]*$/.test(body.home) ? body.home : "/");
    } catch (e) {
      fail("login.failed", String(e));
    }
  });
  // IANTsafe shows control and bidi characters of a message as \u{XXXX}.
  function IANTsafe(s) {
    return String(s).replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
      (c) => "\\u{" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "}");
  }
})();
