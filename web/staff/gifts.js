// Gifts: the filterable list, one gift's detail (history, refunds, disputes) and a refund;
// and the recurring plans.
"use strict";

(() => {
  const { el, money, toMinor, today, daysAgo, when, words, say, call, views } = window.Staff;
  const form = () => document.getElementById("gift-filters");
  let giftCursor = null;
  let giftQuery = null;
  let giftAsked = 0;
  // An export's word (starting, or why it was refused) stays until the next search: a list that
  // answers meanwhile fills the table, and its count is said once the export has started.
  let exportSaid = false;
  let giftLoading = false;
  let giftCount = "";
  let planCursor = null;
  let plansAsked = 0;
  let funds = null;

  // -- the list ---------------------------------------------------------------------------
  // The filters as the API takes them, or an error naming the field to fix.
  function filters() {
    const f = form().elements;
    const query = {};
    for (const name of ["from", "to", "status", "fund", "frequency", "campaign", "email"]) query[name] = f[name].value.trim();
    for (const name of ["min_amount", "max_amount"]) {
      const minor = toMinor(f[name].value);
      if (Number.isNaN(minor)) return { error: f[name], message: "Write an amount in dollars, such as 25 or 25.50." };
      query[name] = minor;
    }
    if (!query.from || !query.to) return { error: f.from, message: "Choose a first and a last day." };
    if (query.to < query.from) return { error: f.to, message: "The last day must not be before the first." };
    return { query };
  }

  function markInvalid(input, message) {
    for (const node of form().querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    if (!input) return;
    input.setAttribute("aria-invalid", "true");
    say("gifts-message", message, true);
    input.focus();
  }

  function row(gift) {
    const donor = `${gift.first_name} ${gift.last_name}`;
    return el("tr", {},
      el("td", { text: when(gift.created_at) }),
      el("td", {},
        el("button", { type: "button", class: "link", "aria-label": `Open the gift from ${donor}, ${money(gift.amount, gift.currency)}`, onclick: () => openGift(gift.id) }, el("bdi", { text: donor })),
        el("br"), el("span", { class: "hint", text: gift.email })),
      el("td", { text: fundName(gift.fund) }),
      el("td", { class: "num", text: money(gift.amount, gift.currency) }),
      el("td", {}, el("span", { class: `status s-${gift.display_status}`, text: words(gift.display_status) })),
      el("td", { text: words(gift.frequency) }),
    );
  }

  async function findGifts(more) {
    const body = document.querySelector("#gift-table tbody");
    if (!more) {
      const { query, error, message } = filters();
      if (error) return markInvalid(error, message);
      markInvalid(null);
      giftQuery = query;
      giftCursor = null;
      body.replaceChildren();
    }
    say("gifts-message", "Looking…");
    exportSaid = false;
    giftLoading = true;
    const mine = ++giftAsked; // an older search answering late is dropped
    let page;
    try {
      page = await call("/staff/donations", { query: { ...giftQuery, cursor: giftCursor, limit: 50 } });
      if (mine !== giftAsked) return;
    } catch (error) {
      if (mine !== giftAsked) return;
      giftLoading = false;
      const field = error.fields && error.fields[0] && form().elements[error.fields[0].field];
      return field ? markInvalid(field, error.message) : say("gifts-message", error.message, true);
    }
    giftLoading = false;
    body.append(...page.items.map(row));
    giftCursor = page.cursor;
    document.getElementById("more-gifts").hidden = !giftCursor;
    const count = body.children.length;
    giftCount = count ? `${count} gifts shown${giftCursor ? "; there are more" : ""}.` : "No gift matches these filters.";
    if (!exportSaid) say("gifts-message", giftCount);
  }

  const fundName = (id) => ((funds || []).find((f) => f.id === id) || { name: id }).name;

  let fundsLoaded = null;
  function loadFunds() {
    fundsLoaded ||= (async () => {
      try {
        const response = await fetch((window.STEWARD_STAFF_API || "/api") + "/config");
        funds = (await response.json()).funds || [];
      } catch (_) {
        funds = [];
      }
      form().elements.fund.append(...funds.map((f) => el("option", { value: f.id, text: f.name })));
    })();
    return fundsLoaded;
  }

  views.gifts = {
    show() {
      const f = form().elements;
      if (!f.from.value) {
        f.from.value = daysAgo(29);
        f.to.value = today();
      }
      if (!giftQuery) loadFunds().then(() => findGifts(false));
    },
  };

  // -- one gift -----------------------------------------------------------------------------
  const dialog = () => document.getElementById("detail");

  function facts(pairs) {
    return el("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, el("bdi", { text: String(v) }))]));
  }

  function table(caption, heads, rows) {
    if (!rows.length) return null;
    return el("div", { class: "scroll" }, el("table", {},
      el("caption", { text: caption }),
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", { text: c })))))));
  }

  // One audit entry in words; amounts (kept in minor units) in the gift's currency.
  function historyText(entry, currency) {
    const d = entry.details || {};
    const change = d.from_status && d.to_status && d.from_status !== d.to_status ? `${words(d.from_status)} → ${words(d.to_status)}` : words(d.to_status || "");
    const shown = (k, v) => (/amount$/.test(k) && /^\d+$/.test(v) ? money(Number(v), currency) : v);
    const extra = Object.entries(d).filter(([k]) => !["from_status", "to_status", "version"].includes(k)).map(([k, v]) => `${words(k)}: ${shown(k, v)}`);
    return [change, ...extra].filter(Boolean).join(" · ");
  }

  function render(gift) {
    const c = gift.currency;
    const left = gift.amount - gift.refunded;
    const refundable = gift.status === "succeeded" && left > 0 && gift.dispute !== "open";
    document.getElementById("detail-title").textContent = `Gift of ${money(gift.amount, c)} from ${gift.first_name} ${gift.last_name}`;
    const parts = [
      facts([
        ["Status", words(gift.display_status)],
        ["Gift id", gift.id],
        ["Donor", `${gift.first_name} ${gift.last_name}`],
        ["Email", gift.email],
        ["Fund", fundName(gift.fund)],
        ["Campaign", gift.campaign],
        ["Frequency", words(gift.frequency)],
        ["Plan", gift.recurring_id],
        ["Created (UTC)", when(gift.created_at)],
        ["Paid (UTC)", gift.succeeded_at && when(gift.succeeded_at)],
        ["Amount", money(gift.amount, c)],
        ["Fee covered by donor", gift.covered_fee ? money(gift.covered_fee, c) : null],
        ["Stripe fee", money(gift.fee, gift.settlement_currency || c)],
        ["Net", money(gift.net, gift.settlement_currency || c)],
        ["Refunded", money(gift.refunded, c)],
        ["Receipt", gift.receipt_number],
        ["Anonymous", gift.anonymous ? "Yes" : null],
        ["Tribute", gift.tribute_kind && `In ${gift.tribute_kind} of ${gift.tribute_name}`],
        ["Stripe payment", gift.payment_intent_id],
        ["Stripe charge", gift.charge_id],
        ["Failure", gift.failure_reason],
      ]),
      table("Refunds", ["Created", "Amount", "Reason", "Status", "By", "Note"],
        gift.refunds.map((r) => [when(r.created_at), money(r.amount, c), words(r.reason), words(r.status), r.actor || "—", r.note || ""])),
      table("Disputes", ["Opened", "Amount", "Reason", "Status", "Evidence due"],
        gift.disputes.map((d) => [when(d.created_at), money(d.amount, d.currency || c), words(d.reason), words(d.status), when(d.evidence_due_by)])),
      el("h3", { text: "History" }),
      el("ol", { class: "history" }, gift.history.map((h) => el("li", {}, el("time", { text: when(h.at) }), ` ${h.actor} (${h.source}): `, el("bdi", { text: historyText(h, c) })))),
      refundable ? refundForm(gift, left) : el("p", { class: "hint", text: gift.status === "succeeded" ? "Nothing is left to refund, or a dispute is open." : "Only a paid gift can be refunded." }),
    ];
    document.getElementById("detail-body").replaceChildren(...parts.filter(Boolean));
  }

  function refundForm(gift, left) {
    const c = gift.currency;
    const amount = el("input", { id: "refund-amount", name: "amount", inputmode: "decimal", value: (left / 100).toFixed(2), "aria-describedby": "refund-left" });
    const reason = el("select", { id: "refund-reason", name: "reason" },
      ["requested_by_customer", "duplicate", "fraudulent", "other"].map((r) => el("option", { value: r, text: words(r) })));
    const note = el("input", { id: "refund-note", name: "note", maxlength: "500" });
    const message = el("p", { id: "refund-message", role: "status" });
    const confirm = el("div", { class: "confirm", hidden: true });
    const submit = el("button", { type: "submit", text: "Refund…" });
    let key = null;
    const refundForm = el("form", { id: "refund-form", novalidate: true },
      el("h3", { text: "Refund" }),
      el("p", { id: "refund-left", class: "hint", text: `Up to ${money(left, c)} can be refunded. The donor is emailed a corrected receipt.` }),
      el("div", { class: "filters" },
        el("label", {}, "Amount (dollars) ", amount),
        el("label", {}, "Reason ", reason),
        el("label", {}, "Note for the record ", note)),
      submit, confirm, message);
    // While a refund is asked or sent its fields are locked: one key, one body, and "Refund…"
    // cannot start a second refund beside one in flight.
    const lock = (locked) => {
      for (const field of [amount, reason, note, submit]) field.disabled = locked;
    };
    // Focus goes to the question, not to the button: a second Enter (a double press, a key
    // held down) must not confirm a refund nobody has read.
    const ask = (minor) => {
      key = crypto.randomUUID();
      lock(true);
      const question = el("p", { id: "refund-question", tabindex: "-1", text: `Refund ${money(minor, c)} to ${gift.email}? This sends the money back through Stripe.` });
      confirm.replaceChildren(
        question,
        el("button", { type: "button", id: "refund-confirm", class: "danger", text: `Confirm refund of ${money(minor, c)}`, onclick: () => send(minor) }),
        " ",
        el("button", { type: "button", class: "quiet", text: "Cancel", onclick: () => { confirm.hidden = true; lock(false); submit.focus(); } }));
      confirm.hidden = false;
      question.focus();
    };
    const send = async (minor) => {
      for (const b of confirm.querySelectorAll("button")) b.disabled = true;
      message.textContent = "Refunding…";
      try {
        const refund = await call(`/staff/donations/${gift.id}/refunds`, {
          method: "POST", idempotencyKey: key, body: { amount: minor, reason: reason.value, note: note.value.trim() },
        });
        await openGift(gift.id, `Refund of ${money(refund.amount, c)} ${refund.status === "failed" ? "failed" : "made"}.`);
      } catch (error) {
        if (error.status === 409) {
          // Another tab or person refunded it, or a dispute opened: show the gift as it is now.
          return openGift(gift.id, "This gift changed meanwhile (another refund, or a dispute). Here it is as it is now: check its refunds before trying again.");
        }
        message.textContent = error.message;
        message.classList.add("error");
        for (const b of confirm.querySelectorAll("button")) b.disabled = false;
      }
    };
    refundForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const minor = toMinor(amount.value);
      amount.removeAttribute("aria-invalid");
      if (!minor || Number.isNaN(minor) || minor > left) {
        amount.setAttribute("aria-invalid", "true");
        message.textContent = `Write an amount from 0.01 to ${(left / 100).toFixed(2)}.`;
        message.classList.add("error");
        return amount.focus();
      }
      message.textContent = "";
      ask(minor);
    });
    return refundForm;
  }

  // The dialog shows what was opened last: an earlier gift or plan answering late is dropped,
  // so its refund form never stands where another gift was opened.
  let detailAsked = 0;

  async function openGift(id, notice) {
    const box = dialog();
    const mine = ++detailAsked;
    if (!box.open) {
      document.getElementById("detail-title").textContent = "Gift";
      document.getElementById("detail-body").replaceChildren(el("p", { role: "status", text: "Loading…" }));
      box.showModal();
    }
    let gift;
    try {
      gift = await call(`/staff/donations/${encodeURIComponent(id)}`);
    } catch (error) {
      if (mine !== detailAsked) return;
      document.getElementById("detail-body").replaceChildren(el("p", { class: "error", role: "alert", text: error.message }));
      return;
    }
    if (mine !== detailAsked) return;
    render(gift);
    if (notice) {
      const line = el("p", { class: "notice", role: "status", tabindex: "-1", text: notice });
      document.getElementById("detail-body").prepend(line);
      line.focus();
    }
  }

  // -- plans --------------------------------------------------------------------------------
  async function openPlan(id) {
    const box = dialog();
    const mine = ++detailAsked;
    document.getElementById("detail-title").textContent = "Plan";
    document.getElementById("detail-body").replaceChildren(el("p", { role: "status", text: "Loading…" }));
    if (!box.open) box.showModal();
    let plan;
    try {
      plan = await call(`/staff/recurring/${encodeURIComponent(id)}`);
    } catch (error) {
      if (mine !== detailAsked) return;
      return document.getElementById("detail-body").replaceChildren(el("p", { class: "error", role: "alert", text: error.message }));
    }
    if (mine !== detailAsked) return;
    const c = plan.currency;
    document.getElementById("detail-title").textContent = `${words(plan.frequency)} plan of ${money(plan.amount, c)} from ${plan.first_name} ${plan.last_name}`;
    document.getElementById("detail-body").replaceChildren(
      facts([["Status", words(plan.status)], ["Plan id", plan.id], ["Donor", `${plan.first_name} ${plan.last_name}`], ["Email", plan.email], ["Fund", fundName(plan.fund)],
        ["Started (UTC)", when(plan.created_at)], ["Next payment (UTC)", plan.next_payment_at && when(plan.next_payment_at)], ["Canceled (UTC)", plan.canceled_at && when(plan.canceled_at)],
        ["Stripe subscription", plan.subscription_id]]),
      el("h3", { text: "Installments" }),
      plan.installments.length
        ? el("ul", {}, plan.installments.map((g) => el("li", {}, el("button", { type: "button", class: "link", text: `${when(g.created_at)} · ${money(g.amount, g.currency)} · ${words(g.display_status)}`, onclick: () => openGift(g.id) }))))
        : el("p", { text: "No installment yet." }),
    );
  }

  async function findPlans(more) {
    const body = document.querySelector("#plan-table tbody");
    if (!more) {
      planCursor = null;
      body.replaceChildren();
    }
    const status = document.getElementById("plan-filters").elements.status.value;
    say("plans-message", "Looking…");
    const mine = ++plansAsked;
    let page;
    try {
      page = await call("/staff/recurring", { query: { status, cursor: planCursor, limit: 50 } });
      if (mine !== plansAsked) return;
    } catch (error) {
      if (mine !== plansAsked) return;
      return say("plans-message", error.message, true);
    }
    body.append(...page.items.map((p) => {
      const donor = `${p.first_name} ${p.last_name}`;
      return el("tr", {},
        el("td", { text: when(p.created_at) }),
        el("td", {}, el("button", { type: "button", class: "link", "aria-label": `Open the plan of ${donor}`, onclick: () => openPlan(p.id) }, el("bdi", { text: donor })), el("br"), el("span", { class: "hint", text: p.email })),
        el("td", { text: fundName(p.fund) }),
        el("td", { class: "num", text: money(p.amount, p.currency) }),
        el("td", { text: p.frequency === "annual" ? "Year" : "Month" }),
        el("td", { text: words(p.status) }),
        el("td", { text: p.next_payment_at ? when(p.next_payment_at) : "—" }));
    }));
    planCursor = page.cursor;
    document.getElementById("more-plans").hidden = !planCursor;
    say("plans-message", body.children.length ? `${body.children.length} plans shown.` : "No plan in this status.");
  }

  views.plans = { show: () => findPlans(false) };

  document.addEventListener("DOMContentLoaded", () => {
    loadFunds();
    form().addEventListener("submit", (event) => {
      event.preventDefault();
      findGifts(false);
    });
    document.getElementById("more-gifts").addEventListener("click", () => findGifts(true));
    document.getElementById("plan-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      findPlans(false);
    });
    document.getElementById("more-plans").addEventListener("click", () => findPlans(true));
    document.getElementById("export-these").addEventListener("click", () => {
      exportSaid = true;
      const { query, error, message } = filters();
      if (error) return markInvalid(error, message);
      const { from, to, ...rest } = query;
      const chosen = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null && v !== ""));
      markInvalid(null);
      say("gifts-message", "Starting the export…");
      window.Staff.startExport({ kind: "donations", from, to, filters: chosen }, (refusal) => {
        const named = refusal.fields[0] && String(refusal.fields[0].field).replace(/^filters\./, "");
        const field = named && form().elements[named];
        return field ? markInvalid(field, refusal.message) : say("gifts-message", refusal.message, true);
      }).then((started) => {
        if (!started) return;
        exportSaid = false;
        say("gifts-message", giftLoading ? "Looking…" : giftCount);
      });
    });
  });

  window.Staff.openGift = openGift;
})();
