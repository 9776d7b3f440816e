// Steward's embeddable forms. A host page adds placeholders and this one script:
//   <div data-steward-form="donate"></div>   (also "signup" and "contact")
//   <script src="https://forms.example.org/embed.js" data-api="https://api.example.org" defer></script>
// The script loads embed.css from beside itself, reads GET /config, and builds each form.
// It never writes inline script or style (styles are classes from embed.css), so it runs
// under a strict Content-Security-Policy on any origin the API allows.
//
// A gift never sends card data to Steward:
// 1. POST /donations (with one Idempotency-Key per attempt) -> a SetupIntent secret;
// 2. stripe.confirmCardSetup saves the card with Stripe;
// 3. POST /donations/{id}/confirm charges it (the server creates the PaymentIntent);
// 4. stripe.confirmCardPayment runs 3-D Secure when the bank asks for it.
(function () {
  "use strict";
  const script = document.currentScript || document.querySelector("script[data-api][src*='embed.js']");
  const API = ((script && script.getAttribute("data-api")) || "").replace(/\/+$/, "");
  const HERE = script && script.src ? new URL(".", script.src).href : "";
  const CONSENT_VERSION = "2026-01";
  const CONSENT_TEXT = "We will email you news and appeals. You can unsubscribe at any time with one click.";
  const IMPACT = {
    2500: "Clean water for a family for a month",
    5000: "A health worker's visits to ten homes",
    10000: "A week of a peace circle for young people",
    25000: "Training for a new community mediator",
  };
  const OFTEN = { one_time: "", monthly: " monthly", annual: " yearly" };
  const CARD_PARTS = {
    number: "Card number",
    exp_month: "Expiry month (MM)",
    exp_year: "Expiry year (YY)",
    cvc: "Security code",
    postal_code: "ZIP or postal code",
  };
  const CARD_HINTS = { number: "1234 1234 1234 1234", exp_month: "MM", exp_year: "YY", cvc: "CVC", postal_code: "" };
  let configPromise = null;
  let readyAt = 0; // when the form token is old enough to send (see config())
  let stripePromise = null;
  const used = {};

  // ---- small helpers ------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (value === false || value === null || value === undefined) return;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach((child) => child && node.append(child));
    return node;
  }

  function newKey() {
    return (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function config() {
    configPromise = configPromise || fetch(API + "/config").then((r) => {
      if (!r.ok) throw new Error("config " + r.status);
      return r.json();
    }).then((cfg) => {
      // The form token must be this old when a form is sent, or the service takes the sender
      // for a bot; a person whose browser filled the form at once waits out the rest.
      readyAt = Date.now() + 1000 * (cfg.form_token_ready_seconds || 0) + 250;
      return cfg;
    });
    return configPromise;
  }

  async function tokenReady() {
    const wait = readyAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  function loadStripe(cfg) {
    stripePromise = stripePromise || new Promise((resolve, reject) => {
      if (window.Stripe) return resolve(window.Stripe(cfg.publishable_key));
      const tag = el("script", { src: cfg.stripe_js_url });
      tag.addEventListener("load", () => resolve(window.Stripe(cfg.publishable_key)));
      tag.addEventListener("error", reject);
      document.head.appendChild(tag);
    });
    return stripePromise;
  }

  function loadStylesheet() {
    const present = Array.from(document.querySelectorAll("link[rel=stylesheet]")).some((l) => /embed\.css(\?|$)/.test(l.href));
    if (!present && HERE) document.head.appendChild(el("link", { rel: "stylesheet", href: HERE + "embed.css" }));
  }

  async function post(path, body, headers) {
    if (body && body.form_token) await tokenReady();
    const response = await fetch(API + path, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  function money(cents, currency, always) {
    const whole = cents % 100 === 0 && !always;
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: currency.toUpperCase(),
      minimumFractionDigits: whole ? 0 : 2,
      maximumFractionDigits: 2,
    }).format(cents / 100);
  }

  // "50", "$50", "1,250.5" -> minor units; anything else -> NaN. No floating point.
  function minorUnits(text) {
    const clean = String(text).trim().replace(/^\$\s*/, "");
    const match = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(clean);
    if (!match) return NaN;
    return Number(match[1].replace(/,/g, "")) * 100 + Number(((match[2] || "") + "00").slice(0, 2));
  }

  // What cover-the-fee adds, as the API computes it: ceil((amount + fixed) / (1 - percent/100)) - amount.
  function coveredFee(amount, cfg) {
    const thousandths = Math.round(cfg.fee_percent * 1000);
    const numerator = (amount + cfg.fee_fixed) * 100000;
    const denominator = 100000 - thousandths;
    return Math.floor((numerator + denominator - 1) / denominator) - amount;
  }

  // The host's choice (data-fund, data-topic) as the list's default, so that a form reset after
  // a gift or a message ("Make another gift") comes back to it, not to the first option.
  function choose(select, value) {
    const option = Array.from(select.options).find((o) => o.value === value);
    if (option) option.defaultSelected = option.selected = true;
  }

  // A link's tracking value as the API takes it: one line, no control characters, at most 100
  // characters (code points: a cut never splits an emoji into half a surrogate pair). A stray
  // tab or line break in a newsletter's utm_campaign must not stop the gift.
  function oneLine(text) {
    const clean = String(text || "").replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
    return Array.from(clean).slice(0, 100).join("").trim();
  }

  function emailShaped(text) {
    return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(text);
  }

  // ---- one form: its fields, their errors, its status line -------------------------------

  class Form {
    constructor(host, kind, name) {
      const count = used[kind] || 0;
      used[kind] = count + 1;
      this.prefix = "steward-" + kind + (count ? "-" + (count + 1) : "");
      this.fields = {};
      this.node = el("form", { class: "steward-form steward-" + kind, novalidate: true, "aria-label": name, id: this.prefix });
      this.status = el("p", { class: "steward-status", id: this.prefix + "-status", role: "status", "aria-live": "polite", tabindex: "-1" });
      host.appendChild(this.node);
    }

    id(name) {
      return this.prefix + "-" + name.replace(/_/g, "-");
    }

    input(name, label, attrs, optional) {
      const id = this.id(name);
      const tag = (attrs && attrs.tag) || "input";
      const control = el(tag, Object.assign({ id, name }, attrs || {}, { tag: null }));
      const error = el("p", { class: "steward-error", id: id + "-error", hidden: true });
      const text = [document.createTextNode(label)];
      if (optional) text.push(el("span", { class: "steward-optional", text: " (optional)" }));
      const wrap = el("div", { class: "steward-field" }, [el("label", { for: id }, text), control, error]);
      this.fields[name] = { control, error, wrap };
      return wrap;
    }

    choice(type, name, value, label, checked) {
      const id = this.id(name + "-" + value);
      return el("label", { class: "steward-choice", for: id }, [
        el("input", { type, name: this.prefix + "-" + name, value, id, checked: !!checked }),
        el("span", { text: label }),
      ]);
    }

    honeypot() {
      const id = this.id("website");
      this.fields.honeypot = { control: el("input", { id, name: "website", tabindex: "-1", autocomplete: "off" }) };
      return el("div", { class: "steward-hp", "aria-hidden": "true" }, [
        el("label", { for: id, text: "Please leave this field empty" }),
        this.fields.honeypot.control,
      ]);
    }

    value(name) {
      return this.fields[name].control.value.trim();
    }

    say(text, kind) {
      this.status.textContent = text;
      this.status.className = "steward-status" + (kind ? " steward-status-" + kind : "");
    }

    clearErrors() {
      Object.values(this.fields).forEach((f) => {
        if (!f.error) return;
        f.error.hidden = true;
        f.error.textContent = "";
        f.control.removeAttribute("aria-invalid");
        const ids = (f.control.getAttribute("aria-describedby") || "").split(" ").filter((i) => i && i !== f.error.id);
        if (ids.length) f.control.setAttribute("aria-describedby", ids.join(" "));
        else f.control.removeAttribute("aria-describedby");
      });
      this.say("");
    }

    // errors: [[field name, plain words], ...] in the order of the form. Focus goes to the first.
    showErrors(errors) {
      const shown = errors.filter(([name]) => this.fields[name] && this.fields[name].error);
      shown.forEach(([name, words]) => {
        const f = this.fields[name];
        f.error.textContent = words;
        f.error.hidden = false;
        f.control.setAttribute("aria-invalid", "true");
        const ids = (f.control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (!ids.includes(f.error.id)) f.control.setAttribute("aria-describedby", ids.concat(f.error.id).join(" "));
      });
      if (!shown.length) return false;
      // in the order they appear on the page
      shown.sort((a, b) => (this.fields[a[0]].control.compareDocumentPosition(this.fields[b[0]].control) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
      this.say(shown.length === 1 ? "Please correct the field marked above." : "Please correct the " + shown.length + " fields marked above.", "error");
      this.fields[shown[0][0]].control.focus();
      return true;
    }

    // The API's 422 names fields by their JSON path; the form shows each at its own input in
    // the words of `words` (never the API's own message). Anything else goes to the status line.
    showAnswer(result, words, general) {
      this.clearErrors();
      if (result.status === 429) return this.fail("Too many tries. Please wait a while and try again.");
      const fields = ((result.data && result.data.error && result.data.error.fields) || []).map((f) => f.field);
      if (fields.includes("form_token")) return this.fail("This page has expired. Please reload it and try again.");
      const errors = fields.filter((f) => words[f]).map((f) => [f.replace(/\./g, "_"), words[f]]);
      if (result.status === 422 && this.showErrors(errors)) return;
      this.fail(general || "Something went wrong. Please reload the page and try again.");
    }

    fail(text) {
      this.say(text, "error");
      this.status.focus();
    }

    succeed(text) {
      this.say(text, "done");
      this.status.focus();
    }
  }

  const DONOR_WORDS = {
    email: "Please enter a valid email address, like name@example.org.",
    first_name: "Please enter your first name.",
    last_name: "Please enter your last name.",
    name: "Please enter your name.",
    subject: "Please enter a subject.",
    message: "Please enter your message.",
    topic: "Please choose a topic.",
    fund: "Please choose a fund.",
    interests: "Please choose from the interests listed.",
    "tribute.name": "Please enter the name of the person you are honoring.",
    "tribute.notify_name": "Please enter the name of the person to tell, on one line.",
    "tribute.notify_email": "Please enter a valid email address for the person to tell.",
  };

  // ---- Sign Up For Email ----------------------------------------------------------------

  function signupForm(host, cfg, email) {
    const form = new Form(host, "signup", "Sign up for email");
    const interests = el("fieldset", { class: "steward-group steward-interests", id: form.id("interests") }, [
      el("legend", { text: "I am interested in" }),
    ]);
    cfg.interests.forEach((i) => interests.append(form.choice("checkbox", "interests", i.id, i.name, false)));
    form.node.append(
      form.input("email", "Email", { type: "email", autocomplete: "email", required: true, maxlength: 254, value: email || null }),
      form.input("name", "Name", { autocomplete: "name", maxlength: 100 }, true),
      interests,
      el("p", { class: "steward-consent", text: CONSENT_TEXT }),
      form.honeypot(),
      el("button", { type: "submit", class: "steward-button", id: form.id("send"), text: "Sign Up" }),
      form.status,
    );
    let busy = false;
    form.node.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return;
      form.clearErrors();
      const email = form.value("email");
      if (form.showErrors(email && emailShaped(email) ? [] : [["email", DONOR_WORDS.email]])) return;
      const body = {
        form_token: cfg.form_token,
        email,
        interests: Array.from(interests.querySelectorAll("input:checked")).map((b) => b.value),
        source_page: location.href.split("#")[0],
        consent_version: CONSENT_VERSION,
        honeypot: form.fields.honeypot.control.value,
      };
      if (form.value("name")) body.name = form.value("name");
      busy = true;
      try {
        await send(form, "/signups", body, "Thank you! Check your inbox for a link to confirm your subscription (none is sent if you are already subscribed).");
      } finally {
        busy = false;
      }
    });
    return form;
  }

  // Send a signup or contact form: its thank-you, or the server's words at their fields.
  async function send(form, path, body, thanks) {
    form.say("Sending…");
    try {
      const result = await post(path, body);
      if (!result.ok) return form.showAnswer(result, DONOR_WORDS);
      form.node.reset();
      form.succeed(thanks);
    } catch (err) {
      form.fail("Something went wrong. Please try again.");
    }
  }

  // ---- Contact Us -----------------------------------------------------------------------

  function contactForm(host, cfg) {
    const form = new Form(host, "contact", "Contact us");
    const topic = form.input("topic", "Topic", { tag: "select", required: true });
    cfg.topics.forEach((t) => form.fields.topic.control.add(new Option(t.name, t.id)));
    choose(form.fields.topic.control, host.getAttribute("data-topic"));
    form.node.append(
      el("div", { class: "steward-row" }, [
        form.input("name", "Name", { autocomplete: "name", required: true, maxlength: 100 }),
        form.input("email", "Email", { type: "email", autocomplete: "email", required: true, maxlength: 254 }),
      ]),
      topic,
      form.input("subject", "Subject", { required: true, maxlength: 200 }),
      form.input("message", "Message", { tag: "textarea", rows: 5, required: true, maxlength: 5000 }),
      form.honeypot(),
      el("button", { type: "submit", class: "steward-button", id: form.id("send"), text: "Send" }),
      form.status,
    );
    let busy = false;
    form.node.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return;
      form.clearErrors();
      const errors = [];
      if (!form.value("name")) errors.push(["name", DONOR_WORDS.name]);
      if (!emailShaped(form.value("email"))) errors.push(["email", DONOR_WORDS.email]);
      if (!form.value("subject")) errors.push(["subject", DONOR_WORDS.subject]);
      if (!form.value("message")) errors.push(["message", DONOR_WORDS.message]);
      if (form.showErrors(errors)) return;
      const body = { form_token: cfg.form_token, honeypot: form.fields.honeypot.control.value };
      ["name", "email", "topic", "subject", "message"].forEach((n) => (body[n] = form.value(n)));
      busy = true;
      try {
        await send(form, "/contact", body, "Thank you! Your message is on its way, and we emailed you to say we received it.");
      } finally {
        busy = false;
      }
    });
    return form;
  }

  // ---- Donate ---------------------------------------------------------------------------

  // localstripe's card element is bare inputs with placeholders; real Stripe's is an iframe
  // that labels itself. Give the emulator's inputs visible labels and a layout.
  function labelEmulatorCard(container) {
    Array.from(container.children).forEach((child) => {
      if (child.tagName === "SPAN") {
        child.className = "steward-hp"; // the emulator's own "localstripe:" tag
        child.setAttribute("aria-hidden", "true");
      }
      const kind = child.tagName === "INPUT" && child.getAttribute("placeholder");
      const part = kind && CARD_PARTS[kind];
      if (!part) return;
      const label = el("label", { class: "steward-card-part" }, [el("span", { text: part })]);
      child.id = container.id + "-" + kind.replace(/_/g, "-");
      container.insertBefore(label, child);
      label.append(child);
      child.setAttribute("placeholder", CARD_HINTS[kind]);
      child.setAttribute("inputmode", "numeric");
      child.setAttribute("autocomplete", { number: "cc-number", exp_month: "cc-exp-month", exp_year: "cc-exp-year", cvc: "cc-csc", postal_code: "postal-code" }[kind]);
    });
  }

  function donateForm(host, cfg) {
    const form = new Form(host, "donate", "Donate");
    const currency = cfg.currencies[0];
    const bounds = "Please enter an amount from " + money(cfg.min_amount, currency, true) + " to " + money(cfg.max_amount, currency, true) + ".";
    const words = Object.assign({}, DONOR_WORDS, { amount: bounds });
    let key = newKey();
    let saved = null; // the gift whose card Stripe saved under this key: a retry goes straight to confirm
    let busy = false;
    let preset = null;
    let card = null;
    let stripe = null;

    // amount: presets with their impact, and another amount in dollars
    const presets = el("div", { class: "steward-presets" });
    const presetButtons = cfg.suggested_amounts.map((cents) => {
      const impact = host.getAttribute("data-impact-" + cents) || IMPACT[cents];
      const impactId = form.id("impact-" + cents);
      const button = el("button", { type: "button", class: "steward-preset", "aria-pressed": "false", "aria-describedby": impact ? impactId : null, text: money(cents, currency) });
      button.addEventListener("click", () => {
        preset = cents;
        form.fields.amount.control.value = "";
        presetButtons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
        update();
      });
      presets.append(el("div", { class: "steward-preset-cell" }, [button, impact ? el("span", { class: "steward-impact", id: impactId, text: impact }) : null]));
      return button;
    });
    const other = form.input("amount", currency === "usd" ? "Other amount in dollars" : "Other amount (" + currency.toUpperCase() + ")", { inputmode: "decimal", autocomplete: "off", maxlength: 12 });
    other.classList.add("steward-other");
    form.fields.amount.control.addEventListener("input", () => {
      preset = null;
      presetButtons.forEach((b) => b.setAttribute("aria-pressed", "false"));
      update();
    });
    const amounts = el("fieldset", { class: "steward-group steward-amounts" }, [el("legend", { text: "Amount" }), presets, other]);

    // how often, with a gentle nudge towards monthly
    const often = el("fieldset", { class: "steward-group steward-often" }, [
      el("legend", { text: "How often" }),
      el("div", { class: "steward-choices" }, [
        form.choice("radio", "frequency", "one_time", "One time", true),
        form.choice("radio", "frequency", "monthly", "Monthly"),
        form.choice("radio", "frequency", "annual", "Yearly"),
      ]),
    ]);
    often.addEventListener("change", update);
    const nudgeText = el("p", { class: "steward-nudge-text" });
    const nudgeButton = el("button", { type: "button", class: "steward-link-button" });
    const nudge = el("div", { class: "steward-nudge", hidden: true }, [nudgeText, nudgeButton]);
    nudgeButton.addEventListener("click", () => {
      const monthly = form.node.querySelector("#" + form.id("frequency-monthly"));
      monthly.checked = true;
      monthly.focus();
      update();
    });

    const fund = form.input("fund", "Fund", { tag: "select", required: true });
    cfg.funds.forEach((f) => form.fields.fund.control.add(new Option(f.name, f.id)));
    choose(form.fields.fund.control, host.getAttribute("data-fund"));

    const coverBox = el("input", { type: "checkbox", id: form.id("cover-fee"), name: "cover_fee" });
    const coverText = el("span", { text: "Add the card fee, so all of my gift goes to the work" });
    coverBox.addEventListener("change", update);
    const anonymousBox = el("input", { type: "checkbox", id: form.id("anonymous"), name: "anonymous" });

    // tribute: in honor or in memory, and who to tell (optional)
    const tributeBox = el("input", { type: "checkbox", id: form.id("tribute"), name: "tribute", "aria-controls": form.id("tribute-details"), "aria-expanded": "false" });
    const tribute = el("fieldset", { class: "steward-group steward-tribute", id: form.id("tribute-details"), hidden: true }, [
      el("legend", { text: "Dedicate my gift" }),
      el("div", { class: "steward-choices" }, [
        form.choice("radio", "tribute_kind", "honor", "In honor of", true),
        form.choice("radio", "tribute_kind", "memory", "In memory of"),
      ]),
      form.input("tribute_name", "Their name", { autocomplete: "off", maxlength: 100 }),
      el("p", { class: "steward-hint", text: "We can let someone know of your gift (never its amount)." }),
      form.input("tribute_notify_name", "Name of the person to tell", { autocomplete: "off", maxlength: 100 }, true),
      form.input("tribute_notify_email", "Their email", { type: "email", autocomplete: "off", maxlength: 254 }, true),
    ]);
    tributeBox.addEventListener("change", () => {
      tribute.hidden = !tributeBox.checked;
      tributeBox.setAttribute("aria-expanded", String(tributeBox.checked));
    });

    const cardBox = el("div", { class: "steward-card", id: form.id("card"), role: "group", "aria-labelledby": form.id("card-label") });
    const give = el("button", { type: "submit", class: "steward-button steward-give", id: form.id("give"), disabled: true, text: "Give" });
    const cardError = el("p", { class: "steward-error", id: form.id("card-error"), "aria-live": "polite", hidden: true });
    const thanks = el("div", { class: "steward-thanks", id: form.id("thanks"), tabindex: "-1", role: "region", "aria-labelledby": form.id("thanks-title"), hidden: true });

    form.node.append(
      often,
      amounts,
      nudge,
      fund,
      el("label", { class: "steward-choice", for: coverBox.id }, [coverBox, coverText]),
      el("label", { class: "steward-choice", for: tributeBox.id }, [tributeBox, el("span", { text: "Give in honor or in memory of someone" })]),
      tribute,
      el("div", { class: "steward-row" }, [
        form.input("first_name", "First name", { autocomplete: "given-name", required: true, maxlength: 100 }),
        form.input("last_name", "Last name", { autocomplete: "family-name", required: true, maxlength: 100 }),
      ]),
      form.input("email", "Email (for your receipt)", { type: "email", autocomplete: "email", required: true, maxlength: 254 }),
      el("label", { class: "steward-choice", for: anonymousBox.id }, [anonymousBox, el("span", { text: "Keep my gift anonymous" })]),
      form.honeypot(),
      el("div", { class: "steward-field" }, [el("p", { class: "steward-label", id: form.id("card-label"), text: "Card" }), cardBox, cardError]),
      give,
      form.status,
    );
    host.append(thanks);

    function frequency() {
      return form.node.querySelector("input[name='" + form.prefix + "-frequency']:checked").value;
    }

    function amount() {
      return preset !== null ? preset : minorUnits(form.fields.amount.control.value);
    }

    function update() {
      const cents = amount();
      const valid = Number.isFinite(cents) && cents >= cfg.min_amount && cents <= cfg.max_amount;
      const fee = valid ? coveredFee(cents, cfg) : 0;
      coverText.textContent = valid
        ? "Add " + money(fee, currency, true) + " to cover the card fee, so all of my gift goes to the work"
        : "Add the card fee, so all of my gift goes to the work";
      const total = cents + (coverBox.checked ? fee : 0);
      if (!busy) give.textContent = valid ? "Give " + money(total, currency) + OFTEN[frequency()] : "Give";
      nudge.hidden = !(valid && frequency() === "one_time");
      nudgeText.textContent = "A monthly gift of " + money(cents, currency) + " helps us plan the year's work.";
      nudgeButton.textContent = "Make it monthly";
    }

    function validate() {
      const errors = [];
      const cents = amount();
      if (!(Number.isFinite(cents) && cents >= cfg.min_amount && cents <= cfg.max_amount)) errors.push(["amount", bounds]);
      if (tributeBox.checked && !form.value("tribute_name")) errors.push(["tribute_name", DONOR_WORDS["tribute.name"]]);
      const notify = form.value("tribute_notify_email");
      if (tributeBox.checked && notify && !emailShaped(notify)) errors.push(["tribute_notify_email", DONOR_WORDS["tribute.notify_email"]]);
      if (!form.value("first_name")) errors.push(["first_name", DONOR_WORDS.first_name]);
      if (!form.value("last_name")) errors.push(["last_name", DONOR_WORDS.last_name]);
      if (!emailShaped(form.value("email"))) errors.push(["email", DONOR_WORDS.email]);
      return errors;
    }

    function body() {
      const gift = {
        amount: amount(),
        currency,
        frequency: frequency(),
        email: form.value("email"),
        first_name: form.value("first_name"),
        last_name: form.value("last_name"),
        fund: form.fields.fund.control.value,
        anonymous: anonymousBox.checked,
        cover_fee: coverBox.checked,
        honeypot: form.fields.honeypot.control.value,
        form_token: cfg.form_token,
      };
      if (tributeBox.checked) {
        gift.tribute = { kind: form.node.querySelector("input[name='" + form.prefix + "-tribute_kind']:checked").value, name: form.value("tribute_name") };
        if (form.value("tribute_notify_name")) gift.tribute.notify_name = form.value("tribute_notify_name");
        if (form.value("tribute_notify_email")) gift.tribute.notify_email = form.value("tribute_notify_email");
      }
      const query = new URLSearchParams(location.search);
      const campaign = oneLine(host.getAttribute("data-campaign") || query.get("utm_campaign"));
      if (campaign) gift.campaign = campaign;
      ["utm_source", "utm_medium", "utm_campaign"].forEach((name) => {
        if (oneLine(query.get(name))) gift[name] = oneLine(query.get(name));
      });
      return gift;
    }

    function thank(gift) {
      const fundName = (cfg.funds.find((f) => f.id === gift.fund) || { name: gift.fund }).name;
      const total = gift.amount + (gift.cover_fee ? coveredFee(gift.amount, cfg) : 0);
      const what = money(total, currency, true);
      const line = gift.frequency === "one_time"
        ? "Your gift of " + what + " to " + fundName + " was received."
        : "Your " + (gift.frequency === "monthly" ? "monthly" : "yearly") + " gift is set up: " + what + " to " + fundName + " every " + (gift.frequency === "monthly" ? "month" : "year") + ".";
      thanks.replaceChildren(
        el("h3", { class: "steward-thanks-title", id: form.id("thanks-title"), text: "Thank you, " + gift.first_name + "!" }),
        el("p", { text: line }),
        el("p", { text: "A receipt is on its way to " + gift.email + "." }),
        el("p", { class: "steward-thanks-signup", text: "Would you like to hear how your gift is used? Sign up for our email." }),
      );
      signupForm(thanks, cfg, gift.email);
      const again = el("button", { type: "button", class: "steward-link-button", text: "Make another gift" });
      again.addEventListener("click", () => {
        thanks.hidden = true;
        form.node.hidden = false;
        form.node.reset();
        if (card && typeof card.clear === "function") card.clear(); // Stripe's element keeps its card otherwise
        preset = null;
        presetButtons.forEach((b) => b.setAttribute("aria-pressed", "false"));
        tribute.hidden = true;
        form.clearErrors();
        update();
        presetButtons[0].focus();
      });
      thanks.append(again);
      form.node.hidden = true;
      thanks.hidden = false;
      // Its top in view: focus alone scrolls the least it can, and a thank-you taller than the
      // screen showed only its signup form and "Make another gift".
      thanks.focus({ preventScroll: true });
      thanks.scrollIntoView({ block: "start" });
      // The host page may listen (a campaign's progress bar); no donor's name or address in it.
      const detail = { amount: total, currency, frequency: gift.frequency, fund: gift.fund, campaign: gift.campaign || null };
      host.dispatchEvent(new CustomEvent("steward:gift", { bubbles: true, detail }));
    }

    function settle(text) {
      key = newKey(); // this attempt is over: the next one is a new gift
      form.fail(text);
    }

    async function confirmGift(donationId, gift) {
      for (let attempt = 0; attempt < 5; attempt++) {
        // A dropped connection is retried like a 5xx: the charge may have gone through, and
        // only the confirm's answer can tell.
        const result = await post("/donations/" + donationId + "/confirm", {}).catch(() => null);
        if (!result || result.status === 409 || result.status >= 500) {
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        if (!result.ok) return form.showAnswer(result, words);
        if (result.data.status === "requires_action") {
          const auth = await stripe.confirmCardPayment(result.data.client_secret);
          if (auth.error) return settle((auth.error.message || "Your bank did not confirm the payment.") + " Please try again or use another card.");
          continue;
        }
        if (result.data.status === "succeeded" || result.data.status === "pending") {
          key = newKey();
          return thank(gift);
        }
        return settle((result.data.failure_reason || "Your gift could not be completed.") + " Please try another card.");
      }
      form.fail("We are still confirming your gift. Please wait a few minutes before you try again.");
    }

    async function submit() {
      const gift = body();
      const created = await post("/donations", gift, { "Idempotency-Key": key });
      if (!created.ok) {
        if (created.status < 500) key = newKey(); // refused: nothing was made with this key
        return form.showAnswer(created, words);
      }
      // A retry after the confirm's answer was lost: the card is saved and the gift may be paid
      // already. Stripe refuses to confirm a SetupIntent twice, and a new attempt would charge again.
      if (saved !== created.data.donation_id) {
        const setup = await stripe.confirmCardSetup(created.data.client_secret, {
          payment_method: { card, billing_details: { name: gift.first_name + " " + gift.last_name, email: gift.email } },
        });
        if (setup.error) return settle((setup.error.message || "Your card was declined.") + " Please check it or try another card.");
        saved = created.data.donation_id;
      }
      await confirmGift(created.data.donation_id, gift);
    }

    form.node.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return; // a double click never submits twice
      form.clearErrors();
      if (form.showErrors(validate())) return;
      busy = true;
      give.disabled = true;
      form.node.setAttribute("aria-busy", "true");
      give.textContent = "Processing…";
      form.say("Processing your gift. Please wait.", "busy");
      try {
        await submit();
      } catch (err) {
        form.fail("Something went wrong. Please try again.");
      } finally {
        busy = false;
        give.disabled = false;
        form.node.removeAttribute("aria-busy");
        update();
      }
    });

    update();
    loadStripe(cfg)
      .then((instance) => {
        stripe = instance;
        card = stripe.elements().create("card");
        card.mount(cardBox);
        labelEmulatorCard(cardBox);
        // Stripe's Card Element reports what is wrong with the card as it is typed.
        card.on("change", (event) => {
          cardError.textContent = (event && event.error && event.error.message) || "";
          cardError.hidden = !cardError.textContent;
        });
        give.disabled = false;
      })
      .catch(() => form.fail("The card form could not load. Please try again later."));
    return form;
  }

  // A link to page#steward-signup (the service's "Sign up again") arrives before the form
  // exists; once it does, bring it into view and put the cursor in its first field.
  // Once only: a placeholder added later must not pull the cursor back. A hash that is not
  // valid percent-encoding ("#100%") names no form.
  let linked = false;
  function goToLinkedForm() {
    let name = "";
    try {
      name = decodeURIComponent(location.hash.slice(1));
    } catch (err) {
      return;
    }
    const target = !linked && name && document.getElementById(name);
    if (!target || !target.classList.contains("steward-form")) return;
    linked = true;
    target.scrollIntoView();
    const first = target.querySelector("input:not([tabindex='-1']), select, textarea");
    if (first) first.focus();
  }

  const BUILDERS = { donate: donateForm, signup: signupForm, contact: contactForm };

  function start() {
    const hosts = Array.from(document.querySelectorAll("[data-steward-form]")).filter((h) => !h.hasAttribute("data-steward-ready"));
    if (!hosts.length) return;
    loadStylesheet();
    hosts.forEach((host) => host.setAttribute("data-steward-ready", "")); // taken: built once
    config()
      .then((cfg) => {
        hosts.forEach((host) => {
          const build = BUILDERS[host.getAttribute("data-steward-form")];
          if (build) build(host, cfg);
        });
        goToLinkedForm();
      })
      .catch(() => hosts.forEach((host) => {
        host.append(el("p", { class: "steward-status steward-status-error", role: "alert", text: "This form could not load. Please try again later." }));
      }));
  }

  // A placeholder the page adds later (a page that renders with a framework, a dialog that
  // opens) becomes its form as well.
  function watch() {
    start();
    new MutationObserver((changes) => {
      const added = changes.some((c) => Array.from(c.addedNodes).some((n) => n.nodeType === 1 && (n.matches("[data-steward-form]") || n.querySelector("[data-steward-form]"))));
      if (added) start();
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
