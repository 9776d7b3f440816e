// The finance dashboard's shell: sign-in, calls to the staff API, the sections, and the
// helpers the other scripts share. Text from the API is only ever set as textContent.
"use strict";

window.Staff = (() => {
  const api = window.STEWARD_STAFF_API || "/api";
  const signIn = window.STEWARD_SIGN_IN || {};
  const KEY = "steward.staff.token";
  const NOTICE = "steward.staff.notice";
  const views = {};
  let shown = null;

  // -- small helpers -------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function digits(currency) {
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch (_) {
      return 2;
    }
  }

  function money(minor, currency) {
    if (minor === null || minor === undefined || !currency) return "—";
    const code = currency.toUpperCase();
    const value = minor / 10 ** digits(code);
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency: code }).format(value);
    } catch (_) {
      return value.toFixed(2) + " " + code;
    }
  }

  // "12.50" or "1,250.50" -> 1250 or 125050 (minor units of a two-decimal currency); "" -> null;
  // anything else NaN. A comma only groups thousands: "12,50" is refused, never read as 1250.
  function toMinor(text) {
    const value = String(text || "").trim().replace(/^\$/, "");
    if (!value) return null;
    const match = /^(\d{1,9}|\d{1,3}(?:,\d{3}){1,2})(?:\.(\d{1,2}))?$/.exec(value);
    if (!match) return NaN;
    return Number(match[1].replace(/,/g, "")) * 100 + Number((match[2] || "").padEnd(2, "0"));
  }

  const day = (date) => date.toISOString().slice(0, 10);
  const today = () => day(new Date());
  const daysAgo = (n) => day(new Date(Date.now() - n * 86400000));
  const when = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") : "—");
  const words = (code) => (code ? String(code).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()) : "—");

  function say(id, text, isError) {
    const node = document.getElementById(id);
    node.textContent = text || "";
    node.classList.toggle("error", Boolean(isError));
  }

  // -- the API ----------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      const fields = (error.fields || []).map((f) => `${f.field}: ${f.message}`);
      super([error.message || `the server answered ${status}`, ...fields].join("; "));
      this.status = status;
      this.fields = error.fields || [];
    }
  }

  async function call(path, options = {}) {
    const headers = { Authorization: "Bearer " + token() };
    const init = { method: options.method || "GET", headers };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
    const query = options.query ? "?" + new URLSearchParams(clean(options.query)) : "";
    let response;
    try {
      response = await fetch(api + path + query, init);
    } catch (_) {
      throw new ApiError(0, { error: { message: "The service cannot be reached. Check your connection and try again." } });
    }
    if (options.raw && response.ok) return response;
    const body = await response.json().catch(() => null);
    if (response.status === 401 && !options.signingIn) {
      signOut("Your sign-in has ended. Please sign in again.");
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function clean(query) {
    const out = {};
    for (const [name, value] of Object.entries(query)) {
      if (value !== null && value !== undefined && value !== "") out[name] = value;
    }
    return out;
  }

  // -- signing in -------------------------------------------------------------------------
  const token = () => sessionStorage.getItem(KEY) || "";

  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch (_) {
      return {};
    }
  }

  async function useToken(jwt) {
    sessionStorage.setItem(KEY, jwt);
    try {
      await call("/staff/reports/totals", { query: { from: today(), to: today(), group_by: "day" }, signingIn: true });
    } catch (error) {
      sessionStorage.removeItem(KEY);
      if (error.status === 401) throw new Error("That token is not valid or has expired.");
      if (error.status === 403) throw new Error("That account has no finance role.");
      throw error;
    }
    started();
  }

  function started() {
    const who = claims(token());
    document.getElementById("who-name").textContent = who.username || who["cognito:username"] || who.sub || "";
    document.getElementById("sign-in").hidden = true;
    document.getElementById("nav").hidden = false;
    document.getElementById("who").hidden = false;
    route();
  }

  // Signing out reloads the page, so nothing the last person saw stays in it.
  function signOut(message) {
    sessionStorage.removeItem(KEY);
    sessionStorage.setItem(NOTICE, message || "");
    location.replace(location.pathname);
  }

  function showSignIn() {
    document.getElementById("sign-in").hidden = false;
    const message = sessionStorage.getItem(NOTICE);
    sessionStorage.removeItem(NOTICE);
    if (message) {
      say("sign-in-message", message, true);
      document.getElementById(signIn.cognito_domain ? "cognito" : "token").focus();
    }
  }

  // Cognito's hosted UI: authorization code with PKCE; the access token stays in this tab.
  const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const redirectUri = () => location.origin + location.pathname;

  async function cognitoStart() {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
    sessionStorage.setItem("steward.pkce", JSON.stringify({ verifier, state }));
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: signIn.client_id,
      redirect_uri: redirectUri(),
      scope: "openid",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    location.assign(`https://${signIn.cognito_domain}/oauth2/authorize?${query}`);
  }

  async function cognitoFinish(params) {
    const saved = JSON.parse(sessionStorage.getItem("steward.pkce") || "{}");
    sessionStorage.removeItem("steward.pkce");
    history.replaceState(null, "", redirectUri());
    if (params.get("error")) throw new Error("The sign-in was canceled or refused. Please try again.");
    if (!saved.state || params.get("state") !== saved.state) throw new Error("The sign-in did not come back as it left. Please try again.");
    const response = await fetch(`https://${signIn.cognito_domain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: signIn.client_id,
        code: params.get("code"),
        redirect_uri: redirectUri(),
        code_verifier: saved.verifier,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.access_token) throw new Error("The sign-in was refused. Please try again.");
    await useToken(body.access_token);
  }

  // -- sections ---------------------------------------------------------------------------
  function route() {
    if (!token()) return;
    const name = location.hash.slice(1);
    const view = Object.hasOwn(views, name) ? name : shown || "overview"; // not #constructor
    for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.hash === "#" + view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (shown !== view) {
      shown = view;
      views[view].show();
      document.getElementById(view + "-title").focus();
    }
  }

  function start() {
    for (const title of document.querySelectorAll(".view h1")) title.tabIndex = -1;
    window.addEventListener("hashchange", route);
    document.querySelector(".skip").addEventListener("click", (event) => {
      event.preventDefault();
      document.getElementById("main").focus();
    });
    document.getElementById("sign-out").addEventListener("click", () => signOut("You have signed out."));
    document.getElementById("detail-close").addEventListener("click", () => document.getElementById("detail").close());
    document.getElementById("token-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      // A token copied from a narrow terminal comes with line breaks in it; a JWT has no space.
      const text = document.getElementById("token").value.trim().replace(/^Bearer\s+/i, "").replace(/\s+/g, "");
      if (!text) return say("sign-in-message", "Paste a staff token first.", true);
      if (!/^[\w.~+\/=-]+$/.test(text)) {
        say("sign-in-message", "That is not a staff token: it holds characters a token never has.", true);
        return document.getElementById("token").focus();
      }
      say("sign-in-message", "");
      try {
        await useToken(text);
      } catch (error) {
        say("sign-in-message", error.message, true);
        document.getElementById("token").focus();
      }
    });
    if (signIn.cognito_domain) {
      document.getElementById("cognito").hidden = false;
      document.getElementById("cognito-intro").hidden = false;
      document.getElementById("cognito").addEventListener("click", cognitoStart);
    }
    const params = new URLSearchParams(location.search);
    if (signIn.cognito_domain && (params.get("code") || params.get("error"))) {
      cognitoFinish(params).catch((error) => say("sign-in-message", error.message, true));
    } else if (token() && (claims(token()).exp || 0) * 1000 > Date.now()) {
      started();
    } else {
      sessionStorage.removeItem(KEY);
      showSignIn();
    }
  }

  // A file the API answers (it needs the bearer token, so a plain link cannot fetch it).
  async function download(path, query, filename) {
    const response = await call(path, { query, raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  return { el, money, toMinor, today, daysAgo, when, words, say, call, views, start, download };
})();

document.addEventListener("DOMContentLoaded", () => window.Staff.start());
