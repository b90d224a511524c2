// The post form: releasability by region or state, validation as you type
// of what the browser can know, and the node's decision on submit (its
// refusal beside the field it names).
"use strict";
(function () {
  const { el, text, rpc, precedence, category, tlp, fillEnum, relabel, showError, clearErrors, bulletinURL } = IANT;
  const form = document.getElementById("post-form");
  const $ = (id) => document.getElementById(id);
  fillEnum($("p-precedence"), IANT.PRECEDENCES, precedence);
  fillEnum($("p-category"), IANT.CATEGORIES, category);
  fillEnum($("p-marking"), IANT.MARKINGS, tlp);
  $("p-precedence").value = "PRECEDENCE_ROUTINE";
  $("p-marking").value = "MARKING_AMBER";
  const lang = I18N.lang().toUpperCase();
  $("p-language").value = "LANGUAGE_" + (["ES", "EN", "PT", "FR"].includes(lang) ? lang : "EN");

  const RELIABILITY = { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6 };
  const CREDIBILITY = ["", "CONFIRMED", "PROBABLY_TRUE", "POSSIBLY_TRUE", "DOUBTFUL", "IMPROBABLE", "CANNOT_BE_JUDGED"];
  const INDICATORS = ["person", "travel-document", "flight", "vehicle", "weapon", "network"];

  function setErr(name, key) {
    const c = form.querySelector('[data-field="' + name + '"]');
    const box = c.closest(".field, fieldset");
    text(box.querySelector(".err"), key ? I18N.t(key) : "");
    if (key) c.setAttribute("aria-invalid", "true"); else c.removeAttribute("aria-invalid");
    return !key;
  }
  function releasability() {
    if ($("p-all").checked) return { all: true };
    const r = { states: [], regions: [] };
    form.querySelectorAll("input[name=region]:checked").forEach((c) => r.regions.push(c.value));
    form.querySelectorAll("input[name=state]:checked").forEach((c) => { if (!c.disabled) r.states.push(c.value); });
    return r;
  }
  function indicators() {
    const out = [];
    for (const line of $("p-indicators").value.split("\n")) {
      const s = line.trim();
      if (!s) continue;
      const sp = s.indexOf(" ");
      const type = sp < 0 ? "" : s.slice(0, sp).toLowerCase();
      if (!INDICATORS.includes(type)) return null;
      out.push({ type: "INDICATOR_TYPE_" + type.toUpperCase().replace("-", "_"), value: s.slice(sp + 1).trim() });
    }
    return out;
  }
  // validate checks what the browser can know; the node checks the rest.
  function validate() {
    let ok = setErr("title", $("p-title").value.trim() ? "" : "err.required");
    ok = setErr("body", $("p-body").value.trim() ? "" : "err.required") && ok;
    const r = releasability();
    ok = setErr("releasability", r.all || r.states.length || r.regions.length ? "" : "err.release") && ok;
    ok = setErr("indicators", indicators() ? "" : "err.indicator") && ok;
    return ok;
  }
  function draft() {
    const f = form.elements;
    const b = {
      title: f.title.value, body: f.body.value, precedence: f.precedence.value, category: f.category.value,
      marking: f.marking.value, language: f.language.value, releasability: releasability(), indicators: indicators() || [],
      caveats: [...form.querySelectorAll("input[name=caveat]:checked")].map((c) => c.value),
    };
    if (f.reliability.value || f.credibility.value) {
      b.sourceGrading = {
        reliability: f.reliability.value ? "SOURCE_RELIABILITY_" + f.reliability.value : "SOURCE_RELIABILITY_UNSPECIFIED",
        credibility: "INFORMATION_CREDIBILITY_" + (CREDIBILITY[Number(f.credibility.value)] || "UNSPECIFIED"),
      };
    }
    if (f.expires.value) b.expireTime = new Date(f.expires.value).toISOString();
    return b;
  }
  form.addEventListener("input", () => { if (form.dataset.tried) validate(); });
  $("p-title").addEventListener("blur", () => setErr("title", $("p-title").value.trim() ? "" : "err.required"));
  $("p-all").addEventListener("change", () => form.querySelectorAll("#p-regions input").forEach((c) => (c.disabled = $("p-all").checked)));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    form.dataset.tried = "1";
    const out = $("post-result");
    text(out, "");
    if (!validate()) return;
    clearErrors(form);
    try {
      const resp = await rpc("PostBulletin", { bulletin: draft() });
      const b = (resp.bulletin || {}).bulletin || {};
      out.replaceChildren(el("span", "", I18N.t("post.posted") + " "));
      const a = el("a", "", b.id);
      a.href = bulletinURL(b);
      a.id = "posted-link";
      out.append(a);
    } catch (err) {
      showError(form, err, out);
    }
  });
  document.addEventListener("iant-lang", () => {
    relabel($("p-precedence"), precedence); relabel($("p-category"), category);
  });
  IANT.whoami().then((me) => {
    const box = $("p-regions");
    for (const r of me.regions) {
      const fs = el("fieldset", "region");
      const lg = el("legend");
      const rc = el("input"); rc.type = "checkbox"; rc.name = "region"; rc.value = r.enum;
      const rl = el("label"); rl.append(rc, document.createTextNode(" " + r.name));
      lg.append(rl);
      fs.append(lg);
      const states = [];
      for (const s of r.states) {
        const c = el("input"); c.type = "checkbox"; c.name = "state"; c.value = s.code;
        const l = el("label", "state"); l.append(c, document.createTextNode(" " + s.code + " " + s.name));
        states.push(c);
        fs.append(l);
      }
      rc.addEventListener("change", () => states.forEach((c) => { c.checked = rc.checked; c.disabled = rc.checked; }));
      box.append(fs);
    }
  });
})();
