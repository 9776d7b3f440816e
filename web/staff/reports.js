// Overview (totals and the daily chart), payouts reconciled with Stripe, and exports.
"use strict";

(() => {
  const { el, money, today, daysAgo, when, words, say, call, views, download } = window.Staff;
  let chart = null;
  let days = [];
  let chartAsked = 0;
  let payoutsAsked = 0;

  // -- overview -------------------------------------------------------------------------
  // Rows of one report summed per gift currency (fees and net only where settled in it).
  function byCurrency(rows) {
    const sums = {};
    for (const row of rows) {
      const sum = (sums[row.currency] ||= { count: 0, gross: 0, net: 0, fees: 0, refunded: 0, settled: row.settlement_currency });
      sum.count += row.count;
      sum.gross += row.gross;
      sum.refunded += row.refunded;
      if (row.settlement_currency === row.currency) {
        sum.net += row.net;
        sum.fees += row.fees;
      }
    }
    return sums;
  }

  function card(title, rows) {
    const sums = byCurrency(rows);
    const lines = Object.entries(sums).map(([currency, s]) =>
      el("dl", { class: "figures" },
        el("dt", { text: "Gross" }), el("dd", { text: money(s.gross, currency) }),
        el("dt", { text: "Net" }), el("dd", { text: money(s.net, currency) }),
        el("dt", { text: "Gifts" }), el("dd", { text: String(s.count) }),
        el("dt", { text: "Refunded" }), el("dd", { text: money(s.refunded, currency) }),
      ),
    );
    return el("article", { class: "card" }, el("h2", { text: title }), lines.length ? lines : el("p", { text: "No gifts yet." }));
  }

  async function showTotals() {
    const now = today();
    const year = now.slice(0, 4);
    const box = document.getElementById("cards");
    try {
      const [day, months] = await Promise.all([
        call("/staff/reports/totals", { query: { from: now, to: now, group_by: "day" } }),
        call("/staff/reports/totals", { query: { from: `${year}-01-01`, to: now, group_by: "month" } }),
      ]);
      const month = months.rows.filter((r) => r.group === now.slice(0, 7));
      box.replaceChildren(card("Today", day.rows), card("This month", month), card("This year", months.rows));
    } catch (error) {
      box.replaceChildren(el("p", { class: "error", text: error.message }));
    }
  }

  function major(minor) {
    return minor / 100;
  }

  function drawChart(currency) {
    const rows = days.filter((r) => r.currency === currency);
    const byDay = {};
    for (const row of rows) {
      const d = (byDay[row.group] ||= { gross: 0, net: 0, count: 0 });
      d.gross += row.gross;
      d.count += row.count;
      if (row.settlement_currency === currency) d.net += row.net;
    }
    const from = document.getElementById("chart-from").value;
    const to = document.getElementById("chart-to").value;
    const xs = [], gross = [], net = [];
    for (let t = Date.parse(from + "T00:00:00Z"); t <= Date.parse(to + "T00:00:00Z"); t += 86400000) {
      const key = new Date(t).toISOString().slice(0, 10);
      xs.push(t / 1000);
      gross.push(major((byDay[key] || {}).gross || 0));
      net.push(major((byDay[key] || {}).net || 0));
    }
    const box = document.getElementById("chart");
    const width = Math.max(280, box.clientWidth || 600);
    const code = (currency || "usd").toUpperCase();
    const options = {
      width,
      height: 260,
      tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: { x: { time: true } },
      axes: [{}, { values: (u, ticks) => ticks.map((v) => money(Math.round(v * 100), code)), size: 80 }],
      series: [
        {},
        { label: "Gross", stroke: "#1f5f8b", width: 2, value: (u, v) => (v === null ? "—" : money(Math.round(v * 100), code)) },
        { label: "Net", stroke: "#2e7d32", width: 2, dash: [6, 4], value: (u, v) => (v === null ? "—" : money(Math.round(v * 100), code)) },
      ],
    };
    if (chart) chart.destroy();
    box.replaceChildren();
    chart = new window.uPlot(options, [xs, gross, net], box);
    const total = (list) => money(Math.round(list.reduce((a, b) => a + b, 0) * 100), code);
    document.getElementById("chart-summary").textContent =
      `${code}, ${from} to ${to}: gross ${total(gross)}, net ${total(net)} over ${xs.length} days.`;
    const body = document.querySelector("#chart-data tbody");
    body.replaceChildren(
      ...Object.keys(byDay).sort().map((key) =>
        el("tr", {}, el("td", { text: key }), el("td", { class: "num", text: String(byDay[key].count) }),
          el("td", { class: "num", text: money(byDay[key].gross, code) }), el("td", { class: "num", text: money(byDay[key].net, code) })),
      ),
    );
  }

  async function showChart(event) {
    if (event) event.preventDefault();
    const from = document.getElementById("chart-from").value;
    const to = document.getElementById("chart-to").value;
    if (!from || !to || to < from) return say("chart-message", "Choose a first and a last day, the first not after the last.", true);
    say("chart-message", "Loading…");
    const mine = ++chartAsked; // an older range answering late is dropped
    let rows;
    try {
      rows = (await call("/staff/reports/totals", { query: { from, to, group_by: "day" } })).rows;
    } catch (error) {
      return mine === chartAsked && say("chart-message", error.message, true);
    }
    if (mine !== chartAsked) return;
    days = rows;
    const select = document.getElementById("chart-currency");
    const currencies = [...new Set(days.map((r) => r.currency))].sort();
    if (!currencies.length) currencies.push(select.value || "usd");
    const keep = currencies.includes(select.value) ? select.value : currencies[0];
    select.replaceChildren(...currencies.map((c) => el("option", { value: c, text: c.toUpperCase() })));
    select.value = keep;
    say("chart-message", "");
    drawChart(keep);
  }

  views.overview = {
    show() {
      const from = document.getElementById("chart-from");
      if (!from.value) {
        from.value = daysAgo(29);
        document.getElementById("chart-to").value = today();
      }
      showTotals();
      showChart();
    },
  };

  // -- payouts ----------------------------------------------------------------------------
  const payoutForm = () => document.getElementById("payout-filters");
  const range = (form) => ({ from: form.elements.from.value, to: form.elements.to.value });

  function payoutView(payout) {
    const lines = payout.lines.map((line) =>
      el("tr", { class: line.status === "matched" ? "" : "problem" },
        el("td", { text: words(line.type) }),
        el("td", {}, line.donation_id ? el("button", { type: "button", class: "link", text: line.donation_id, onclick: () => window.Staff.openGift(line.donation_id) }) : "—"),
        el("td", { class: "num", text: money(line.gross, line.currency) }),
        el("td", { class: "num", text: money(line.fee, line.currency) }),
        el("td", { class: "num", text: money(line.net, line.currency) }),
        el("td", { text: line.status === "matched" ? "Matched" : line.problem || "Unmatched" }),
      ),
    );
    const state = payout.unmatched ? `${payout.unmatched} unmatched` : "all matched";
    return el("details", { class: "payout" },
      el("summary", {}, el("strong", { text: payout.id }),
        ` · ${when(payout.created)} · ${words(payout.status)} · net ${money(payout.net, payout.currency)} · ${state}`),
      el("div", { class: "scroll" }, el("table", {},
        el("caption", { class: "sr-only", text: `Balance transactions of payout ${payout.id}` }),
        el("thead", {}, el("tr", {}, ...["Type", "Gift", "Gross", "Fee", "Net", "Match"].map((h, i) => el("th", { scope: "col", class: i > 1 && i < 5 ? "num" : null, text: h })))),
        el("tbody", {}, lines))),
    );
  }

  async function showPayouts(event) {
    if (event) event.preventDefault();
    const { from, to } = range(payoutForm());
    if (!from || !to) return say("payouts-message", "Choose a first and a last day.", true);
    say("payouts-message", "Asking Stripe…");
    const mine = ++payoutsAsked;
    let report;
    try {
      report = await call("/staff/reports/payouts", { query: { from, to } });
    } catch (error) {
      return mine === payoutsAsked && say("payouts-message", error.message, true);
    }
    if (mine !== payoutsAsked) return;
    const list = document.getElementById("payout-list");
    const missing = report.not_paid_out.length
      ? el("section", {}, el("h2", { text: "Paid here, in no payout of the range" }),
        el("ul", {}, report.not_paid_out.map((g) => el("li", {}, el("button", { type: "button", class: "link", text: g.donation_id, onclick: () => window.Staff.openGift(g.donation_id) }), ` ${money(g.amount, g.currency)}`))))
      : null;
    list.replaceChildren(...report.payouts.map(payoutView), missing || "");
    say("payouts-message", `${report.payouts.length} payouts, ${report.unmatched} unmatched items.`);
  }

  views.payouts = {
    show() {
      const form = payoutForm();
      if (!form.elements.from.value) {
        form.elements.from.value = daysAgo(29);
        form.elements.to.value = today();
      }
    },
  };

  // -- exports ----------------------------------------------------------------------------
  async function follow(id, item) {
    for (let wait = 500; ; wait = Math.min(wait * 1.5, 5000)) {
      let state;
      try {
        state = await call(`/staff/exports/${id}`);
      } catch (error) {
        item.status.textContent = error.message;
        return;
      }
      if (state.status === "running") {
        item.status.textContent = `Running: ${state.rows} gifts written so far…`;
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      item.progress.remove();
      if (state.status === "done") {
        item.status.textContent = `Done: ${state.rows} gifts. The link works for a few minutes.`;
        item.node.append(el("a", { href: state.url, class: "button", text: `Download CSV (${state.rows} gifts)` }));
      } else {
        item.status.textContent = `Failed: ${state.reason || "no reason given"}`;
        item.status.classList.add("error");
      }
      return;
    }
  }

  async function startExport(body) {
    location.hash = "#exports";
    say("exports-message", "Starting the export…");
    let answer;
    try {
      answer = await call("/staff/exports", { method: "POST", body });
    } catch (error) {
      return say("exports-message", error.message, true);
    }
    say("exports-message", "The export is running; you can keep working.");
    const status = el("span", { role: "status", text: "Running…" });
    const progress = el("progress", { "aria-label": "Export progress" });
    const node = el("li", { class: "export" }, el("strong", { text: `${body.from} to ${body.to}` }), " ", progress, " ", status);
    document.getElementById("export-list").prepend(node);
    follow(answer.export_id, { node, status, progress });
  }

  views.exports = {
    show() {
      const form = document.getElementById("export-form");
      if (!form.elements.from.value) {
        form.elements.from.value = today().slice(0, 4) + "-01-01";
        form.elements.to.value = today();
      }
    },
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("chart-form").addEventListener("submit", showChart);
    document.getElementById("chart-currency").addEventListener("change", (e) => drawChart(e.target.value));
    payoutForm().addEventListener("submit", showPayouts);
    document.getElementById("payouts-csv").addEventListener("click", () => {
      const { from, to } = range(payoutForm());
      download("/staff/reports/payouts", { from, to, format: "csv" }, `payouts-${from}-${to}.csv`).catch((e) => say("payouts-message", e.message, true));
    });
    document.getElementById("export-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const { from, to } = range(event.target);
      if (!from || !to) return say("exports-message", "Choose a first and a last day.", true);
      startExport({ kind: "donations", from, to });
    });
    let resized = null;
    window.addEventListener("resize", () => {
      clearTimeout(resized);
      resized = setTimeout(() => chart && chart.setSize({ width: Math.max(280, document.getElementById("chart").clientWidth), height: 260 }), 150);
    });
  });

  window.Staff.startExport = startExport;
})();
