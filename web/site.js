// The demo site's own script: the spring appeal's progress bar, from GET /campaigns/{id} (the
// goal, the amount raised and the donor count; never a name). The API's address is the one the
// page gives the embed script. After a gift (embed.js dispatches `steward:gift`), the totals
// move once the stream has applied it, so the bar is fetched again a few times until they do.
(function () {
  "use strict";
  const box = document.querySelector("[data-campaign-progress]");
  const script = document.querySelector("script[data-api][src*='embed.js']");
  if (!box || !script) return;
  const API = script.getAttribute("data-api").replace(/\/+$/, "");
  const CAMPAIGN = box.getAttribute("data-campaign-progress");
  const TRIES = 10;
  const PAUSE_MS = 1500;
  const bar = box.querySelector("progress");
  const title = box.querySelector(".campaign-title");
  const figures = box.querySelector(".campaign-figures");
  let shown = null;

  function money(cents, currency) {
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: currency.toUpperCase(),
      minimumFractionDigits: 0,
      maximumFractionDigits: 0,
    }).format(Math.floor(cents / 100));
  }

  function show(progress) {
    const percent = progress.goal > 0 ? Math.floor((progress.raised * 100) / progress.goal) : 0;
    const donors = progress.donors === 1 ? "1 donor" : progress.donors.toLocaleString("en-US") + " donors";
    const words = money(progress.raised, progress.currency) + " raised of " + money(progress.goal, progress.currency) + " goal";
    title.textContent = progress.title;
    bar.max = progress.goal;
    bar.value = Math.min(progress.raised, progress.goal);
    const share = percent === 0 && progress.raised > 0 ? "under 1%" : percent + "%";
    figures.textContent = words + " · " + share + " · " + donors;
    bar.setAttribute("aria-valuetext", figures.textContent);
    box.hidden = false;
    shown = progress;
  }

  // `fresh` skips the browser's cache (the API allows 30 s of caching).
  async function load(fresh) {
    const response = await fetch(API + "/campaigns/" + encodeURIComponent(CAMPAIGN), fresh ? { cache: "no-store" } : {});
    if (!response.ok) throw new Error("campaign " + response.status);
    return response.json();
  }

  // Again, until the gift is in the figures (a gift in another currency does not count toward
  // the goal); at most TRIES times.
  async function follow(gift) {
    const before = shown;
    if (before && gift.currency !== before.currency) return;
    const target = before ? before.raised + gift.amount : 0;
    for (let attempt = 0; attempt < TRIES; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      const progress = await load(true).catch(() => null);
      if (!progress) continue;
      show(progress);
      if (progress.raised >= target) return;
    }
  }

  document.addEventListener("steward:gift", (event) => {
    if (event.detail && event.detail.campaign === CAMPAIGN) follow(event.detail);
  });
  load(false).then(show).catch(() => {
    box.hidden = true; // no bar rather than a wrong one
  });
})();
