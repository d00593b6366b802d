// The prompt window. Everything the page sent (origin, document previews, names) is put in as
// text (textContent), never as HTML. Strings come from i18n/{kk,ru,en}.json through
// common.js ($, t, text, loadStrings).
"use strict";

const tauri = window.__TAURI__;
let view = null;
let rendered = false;
// While an answer is with the engine: the refusal count it was sent under (null: not busy).
// The form takes input again when a refusal comes back (the count changes); on success the
// window closes. A second Enter meanwhile would answer the next question with an empty
// password, so it is ignored.
let busy = null;
// The refusal count last shown: a new refusal empties the password field, a refreshed list
// (a token plugged in) does not.
let shownRefusals = 0;
// The key the person picked themselves (a radio's value), if any.
let chosen = null;
// What the person opened, by offer id: a refreshed list (a token re-read, another key
// plugged in) draws new cards, and the details open before stay open, with the revocation
// answer already fetched (asked once per key and window).
const openDetails = new Set();
const revocations = new Map();
const asked = new Set();

function answer(a) {
  return tauri.core.invoke("call_answer", { answer: a });
}

function siteName(v) {
  return v.origin === "" ? t("origin.none") : v.origin;
}

function renderOrigin(v) {
  $("origin-view").hidden = false;
  $("sign-view").hidden = true;
  $("origin-site").textContent = siteName(v);
  $("deny").setAttribute("aria-describedby", "deny-hint");
  document.title = `Qoltanba — ${siteName(v)}`;
  $("allow-once").focus();
}

function sizeText(n) {
  if (n < 1024) return t("size.bytes", { n });
  if (n < 1024 * 1024) return t("size.kib", { n: (n / 1024).toFixed(1) });
  return t("size.mib", { n: (n / 1024 / 1024).toFixed(1) });
}

// Every field of the certificate, selectable, with a Copy button.
function detailsBlock(o) {
  const box = document.createElement("div");
  box.className = "details";
  box.id = `details-${o.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  box.hidden = true;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", t("details.title"));
  const dl = document.createElement("dl");
  const lines = [];
  for (const [key, value] of o.details.fields) {
    dl.append(text("dt", t(key)), text("dd", value));
    lines.push(`${t(key)}: ${value}`);
  }
  dl.append(text("dt", t("details.chain")), text("dd", t("chain." + o.details.chain)));
  lines.push(`${t("details.chain")}: ${t("chain." + o.details.chain)}`);
  // Revocation: asked of the engine when the details are first opened (OCSP/CRL take time).
  const rev = text("dd", revocations.get(o.id) ?? t("revocation.checking"), "revocation");
  rev.setAttribute("aria-live", "polite");
  dl.append(text("dt", t("details.revocation")), rev);
  if (revocations.has(o.id)) lines.push(`${t("details.revocation")}: ${revocations.get(o.id)}`);
  box.revocation = rev;
  box.lines = lines;
  const copy = text("button", t("details.copy"), "small secondary");
  copy.type = "button";
  copy.addEventListener("click", () => copyText(lines.join("\n"), copy));
  box.append(dl, copy);
  return box;
}

async function copyText(s, button) {
  try {
    await navigator.clipboard.writeText(s);
  } catch {
    const area = document.createElement("textarea");
    area.value = s;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.textContent = t("details.copied");
}

function revocationText(st) {
  if (!st) return t("revocation.off");
  switch (st.state) {
    case "good": return t("revocation.good", { source: st.source.toUpperCase() });
    case "revoked": return t("revocation.revoked", { date: st.time.slice(0, 10), reason: st.reason ?? "" });
    case "unknown": return t("revocation.unknown");
    case "unchecked": return t("revocation.unchecked", { why: st.why });
    default: return t("revocation.nothing_to_check");
  }
}

function offerCard(o, index) {
  const card = document.createElement("div");
  card.className = o.usable ? "card" : "card disabled";
  const choose = document.createElement("label");
  choose.className = "choose";
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "key";
  radio.value = o.id;
  radio.disabled = !o.usable;
  radio.dataset.secret = o.secret;
  radio.dataset.index = String(index);
  const d = o.details;
  const name = d ? d.full_name : `${t("source." + o.source)}: ${o.place}`;
  const body = document.createElement("span");
  body.append(text("span", name, "name"));
  if (o.is_default) body.append(" ", text("span", t("default.is"), "badge"));
  if (d) {
    const lines = [];
    if (d.iin) lines.push(`${t("cert.iin")}: ${d.iin}`);
    if (d.bin) lines.push(`${t("cert.bin")}: ${d.bin}`);
    if (d.organization) lines.push(d.organization);
    if (d.email) lines.push(d.email);
    if (d.roles.length) lines.push(d.roles.join(", "));
    lines.push(`${t("kind." + d.kind)} · ${t("source." + o.source)}: ${o.place}`);
    lines.push(t("cert.validity", { from: d.not_before, to: d.not_after }));
    if (d.issuer) lines.push(`${t("cert.issuer")}: ${d.issuer} · ${t("chain." + d.chain)}`);
    for (const l of lines) body.append(document.createElement("br"), text("span", l, "meta"));
  }
  if (o.locked) body.append(document.createElement("br"), text("span", t("tries.locked"), "reason"));
  if (o.reason) body.append(document.createElement("br"), text("span", t("reason." + o.reason), "reason"));
  // The accessible name a screen reader reads: the holder, the IIN, why it is disabled.
  const label = [name, d && d.iin ? `${t("cert.iin")} ${d.iin}` : "", o.reason ? t("reason." + o.reason) : ""]
    .filter(Boolean).join(", ");
  radio.setAttribute("aria-label", label);
  choose.append(radio, " ", body);
  card.append(choose);
  if (d) {
    const tools = document.createElement("div");
    tools.className = "tools";
    const block = detailsBlock(o);
    const more = text("button", t("details.show"), "small secondary details-toggle");
    more.type = "button";
    more.setAttribute("aria-expanded", "false");
    more.setAttribute("aria-controls", block.id);
    more.setAttribute("aria-label", `${t("details.show")}: ${name}`);
    const show = (open) => {
      block.hidden = !open;
      more.setAttribute("aria-expanded", String(open));
      more.textContent = t(open ? "details.hide" : "details.show");
    };
    more.addEventListener("click", () => {
      if (block.hidden && !asked.has(o.id)) {
        asked.add(o.id);
        const shown = (words) => {
          revocations.set(o.id, words);
          // The card may have been drawn again meanwhile: the words go to the one shown now.
          const now = document.getElementById(block.id);
          if (now && now.revocation) {
            now.revocation.textContent = words;
            now.lines.push(`${t("details.revocation")}: ${words}`);
          }
        };
        tauri.core.invoke("revocation_state", { id: o.id }).then((st) => shown(revocationText(st)),
          (e) => shown(errorText(e)));
      }
      if (block.hidden) openDetails.add(o.id);
      else openDetails.delete(o.id);
      show(block.hidden);
    });
    show(openDetails.has(o.id));
    tools.append(more);
    if (o.usable) {
      const def = text("button", t(o.is_default ? "default.clear" : "default.make"), "small secondary default-toggle");
      def.type = "button";
      def.setAttribute("aria-label", `${def.textContent}: ${name}`);
      def.addEventListener("click", async () => {
        await tauri.core.invoke("set_default_key", { id: o.is_default ? null : o.id, label });
        o.is_default = !o.is_default;
        def.textContent = t(o.is_default ? "default.done" : "default.make");
      });
      tools.append(def);
    }
    card.append(tools, block);
  }
  return card;
}

function selected() {
  return document.querySelector('input[name="key"]:checked');
}

function updateSecret() {
  const s = selected();
  const kind = s && s.value !== "__file__" ? s.dataset.secret : "password";
  $("secret-label").textContent = t(kind === "pin" ? "secret.pin" : "secret.password");
  const o = s && s.value !== "__file__" ? view.offers[Number(s.dataset.index)] : null;
  const tries = $("tries");
  tries.hidden = true;
  if (o && o.final_try) { tries.textContent = t("tries.final"); tries.hidden = false; }
  else if (o && o.few_tries) { tries.textContent = t("tries.few"); tries.hidden = false; }
  $("secret").disabled = kind === "none";
}

function renderSign(v) {
  $("origin-view").hidden = true;
  $("sign-view").hidden = false;
  $("site").textContent = siteName(v);
  document.title = `Qoltanba — ${siteName(v)}`;
  const logo = $("logo");
  // The engine decoded the PNG; it is shown as an image, never as markup.
  logo.hidden = !v.logo;
  if (v.logo) {
    logo.src = `data:image/png;base64,${v.logo}`;
    logo.alt = t("logo.alt", { site: siteName(v) });
  }
  const p = v.purpose;
  $("asks").textContent = p.read_certificate ? t("asks.read") : t("asks.sign");
  $("what").hidden = p.read_certificate;
  if (!p.read_certificate) {
    const format = p.format === "cms" ? (p.attached ? t("format.cms_attached") : t("format.cms_detached")) : t("format." + p.format);
    const total = p.sizes.reduce((a, b) => a + b, 0);
    $("what-summary").textContent = t("what.summary", { n: p.documents.length, format }) + ` · ${sizeText(total)}`;
    const list = $("documents");
    list.replaceChildren(...p.documents.slice(0, 20).map((d, i) => {
      const li = text("li", d);
      if (p.sizes[i] !== undefined) li.prepend(text("span", d ? `${sizeText(p.sizes[i])} · ` : sizeText(p.sizes[i]), "size"));
      return li;
    }));
    $("hash-warning").hidden = !p.hash_only;
    $("tsa-note").hidden = !p.timestamped;
  }
  const previous = selected() ? selected().value : null;
  const offers = $("offers");
  offers.replaceChildren(...v.offers.map(offerCard));
  $("no-keys").hidden = v.offers.length > 0 || v.allows_files;
  $("file-row").hidden = !v.allows_files;
  const radios = [...document.querySelectorAll('input[name="key"]')].filter((r) => !r.disabled);
  // The key the person chose stays chosen when the list is refreshed, and is chosen again
  // if it went away for a moment (a token re-read); the window never moves the choice to
  // another key behind the person's back while they type its password.
  const keep = radios.find((r) => r.value === chosen) ?? radios.find((r) => r.value === previous);
  const first = keep ?? radios.find((r) => r.value !== "__file__") ?? radios[0];
  if (first) first.checked = true;
  // The cards are new on each render; the file row's radio is not (its listener is set once).
  for (const r of offers.querySelectorAll('input[name="key"]')) {
    r.addEventListener("change", () => { chosen = r.value; updateSecret(); });
  }
  updateSecret();
  const refusedNow = v.refusals !== shownRefusals;
  shownRefusals = v.refusals;
  if (busy !== null && v.refusals !== busy) setBusy(false);
  const err = $("error");
  if (v.error && busy === null) {
    err.textContent = v.error.code === "other" || v.error.code === "does_not_fit"
      ? `${t("error." + v.error.code)} ${v.error.detail}`
      : t("error." + v.error.code, { n: v.error.tries_left ?? "?" });
    err.hidden = false;
    if (refusedNow) $("secret").value = "";
  } else {
    err.hidden = true;
  }
  // Focus starts where the person types; a refreshed list (a token plugged in) does not take
  // it away from where the person is, unless that element is gone.
  const lost = !document.activeElement || document.activeElement === document.body;
  if (!rendered || refusedNow || lost) $("secret").focus();
  rendered = true;
}

async function refresh() {
  const next = await tauri.core.invoke("call_state");
  if (!next || (view && next.version === view.version)) return;
  view = next;
  await loadStrings(view.locale);
  $("loading").hidden = true;
  if (view.kind === "origin") renderOrigin(view);
  else renderSign(view);
}

// Busy: the answer is with the engine. The password field and Sign wait; Cancel stays.
function setBusy(on) {
  busy = on ? shownRefusals : null;
  $("sign").disabled = on;
  $("secret").readOnly = on;
  $("busy").hidden = !on;
  $("sign-view").setAttribute("aria-busy", String(on));
}

function submit(ev) {
  ev.preventDefault();
  if (busy !== null) return;
  const s = selected();
  if (!s) return;
  let a;
  if (s.value === "__file__") {
    const path = $("file-path").value.trim();
    if (!path) return;
    a = { type: "file", path, secret: $("secret").value };
  } else {
    a = { type: "choose", id: s.value, secret: $("secret").value };
  }
  $("secret").value = "";
  // The person tries again: the last reason goes, "please wait" comes.
  $("error").hidden = true;
  setBusy(true);
  answer(a).catch((e) => { setBusy(false); showFailure(e); });
}

function showFailure(e) {
  const p = $("loading");
  p.hidden = false;
  p.textContent = `Qoltanba: ${errorText(e)}`;
}
window.addEventListener("error", (e) => showFailure(e.error ?? e.message));
window.addEventListener("unhandledrejection", (e) => showFailure(e.reason));

document.addEventListener("DOMContentLoaded", async () => {
  $("allow-always").addEventListener("click", () => answer({ type: "origin", decision: "always" }));
  $("allow-once").addEventListener("click", () => answer({ type: "origin", decision: "once" }));
  $("deny").addEventListener("click", () => answer({ type: "origin", decision: "deny" }));
  $("sign-view").addEventListener("submit", submit);
  $("cancel").addEventListener("click", () => answer({ type: "cancel" }));
  const fileChosen = () => { $("file-radio").checked = true; chosen = "__file__"; updateSecret(); };
  $("file-radio").addEventListener("change", fileChosen);
  $("file-path").addEventListener("input", fileChosen);
  $("browse").addEventListener("click", async () => {
    const path = await tauri.core.invoke("pick_key_file", { title: t("keys.browse_title") });
    if (path) {
      $("file-path").value = path;
      fileChosen();
      $("secret").focus();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      answer(view && view.kind === "origin" ? { type: "origin", decision: "deny" } : { type: "cancel" });
    }
  });
  await tauri.event.listen("call-updated", refresh);
  await refresh();
  // Events can be missed while the page loads; a cheap poll catches every change.
  setInterval(refresh, 300);
});
