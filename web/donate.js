// The donation form. The card never touches Steward's servers:
// 1. POST /donations -> a SetupIntent secret;
// 2. stripe.confirmCardSetup saves the card with Stripe;
// 3. POST /donations/{id}/confirm charges it (the server creates the PaymentIntent);
// 4. stripe.confirmCardPayment runs 3-D Secure when the bank asks for it.
(function () {
  "use strict";
  const { api } = window.Steward;
  const form = document.getElementById("donate");
  const message = document.getElementById("message");
  const give = document.getElementById("give");
  const amountInput = document.getElementById("amount");
  let config, stripe, card, idempotencyKey = newKey();

  function newKey() {
    return (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random();
  }

  function errorText(result) {
    const amount = (units) => "$" + (units / 100).toLocaleString("en-US", { minimumFractionDigits: 2 });
    const help = { amount: "an amount from " + amount(config.min_amount) + " to " + amount(config.max_amount) };
    return window.Steward.errorText(result.data, result.status, help);
  }

  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? "error" : "";
  }

  async function call(path, body, headers) {
    const response = await fetch(api + path, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function minorUnits(text) {
    const value = Number(String(text).replace(/[$,\s]/g, ""));
    return Number.isFinite(value) ? Math.round(value * 100) : NaN;
  }

  async function init() {
    const response = await fetch(api + "/config");
    config = await response.json();
    document.getElementById("currency-label").textContent = config.currencies[0].toUpperCase();
    const suggested = document.getElementById("suggested");
    config.suggested_amounts.forEach((amount) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "$" + (amount / 100).toFixed(0);
      button.setAttribute("aria-pressed", "false");
      button.onclick = () => {
        amountInput.value = (amount / 100).toFixed(2);
        suggested.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      };
      suggested.appendChild(button);
    });
    const fund = document.getElementById("fund");
    config.funds.forEach((f) => fund.add(new Option(f.name, f.id)));
    await loadScript(config.stripe_js_url);
    stripe = Stripe(config.publishable_key);
    card = stripe.elements().create("card");
    card.mount("#card");
    give.disabled = false;
  }

  async function confirmGift(donationId) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = await call("/donations/" + donationId + "/confirm", {});
      if (result.status === 409) { await new Promise((r) => setTimeout(r, 1000)); continue; }
      if (!result.ok) return say(errorText(result), true);
      if (result.data.status === "requires_action") {
        const auth = await stripe.confirmCardPayment(result.data.client_secret);
        if (auth.error) return say(auth.error.message || "Authentication failed.", true);
        continue;
      }
      if (result.data.status === "succeeded" || result.data.status === "pending") {
        const email = document.getElementById("email").value;
        const often = { monthly: "monthly gift", annual: "yearly gift" }[form.querySelector("input[name=frequency]:checked").value];
        form.reset();
        idempotencyKey = newKey();
        const what = often ? "Your " + often + " is set up. " : "";
        return say("Thank you! Your gift was received. " + what + "A receipt is on its way to " + email + ".", false);
      }
      idempotencyKey = newKey();
      return say(result.data.failure_reason || "Your gift could not be completed.", true);
    }
    say("We are still confirming your gift. Please wait a few minutes before you try again.", false);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    give.disabled = true;
    say("Processing…", false);
    try {
      const body = {
        amount: minorUnits(amountInput.value),
        currency: config.currencies[0],
        email: document.getElementById("email").value,
        first_name: document.getElementById("first_name").value,
        last_name: document.getElementById("last_name").value,
        fund: document.getElementById("fund").value,
        anonymous: document.getElementById("anonymous").checked,
        cover_fee: document.getElementById("cover_fee").checked,
        frequency: form.querySelector("input[name=frequency]:checked").value,
        honeypot: document.getElementById("website").value,
        form_token: config.form_token,
      };
      const query = new URLSearchParams(location.search);
      if (query.get("utm_campaign")) body.campaign = query.get("utm_campaign").slice(0, 100);
      ["utm_source", "utm_medium", "utm_campaign"].forEach((name) => {
        if (query.get(name)) body[name] = query.get(name).slice(0, 100);
      });
      const created = await call("/donations", body, { "Idempotency-Key": idempotencyKey });
      if (!created.ok) return say(errorText(created), true);
      const setup = await stripe.confirmCardSetup(created.data.client_secret, {
        payment_method: { card: card, billing_details: { name: body.first_name + " " + body.last_name, email: body.email } },
      });
      if (setup.error) {
        idempotencyKey = newKey();
        return say(setup.error.message || "Your card was declined.", true);
      }
      await confirmGift(created.data.donation_id);
    } catch (err) {
      say("Something went wrong. Please try again.", true);
    } finally {
      give.disabled = false;
    }
  });

  init().catch(() => say("The donation form could not load. Please try again later.", true));
})();
