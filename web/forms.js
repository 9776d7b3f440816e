// "Sign Up For Email" and "Contact Us". Both send the form_token that GET /config issued
// when the page loaded (the time trap) and the hidden honeypot field.
(function () {
  "use strict";
  const { api, errorText } = window.Steward;
  let formToken = "";

  async function send(path, body, status) {
    status.textContent = "Sending…";
    status.className = "";
    try {
      const response = await fetch(api + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ form_token: formToken }, body)),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        status.textContent = errorText(data, response.status);
        status.className = "error";
        return false;
      }
      return true;
    } catch (err) {
      status.textContent = "Something went wrong. Please try again.";
      status.className = "error";
      return false;
    }
  }

  function value(id) {
    return document.getElementById(id).value;
  }

  async function init() {
    const config = await (await fetch(api + "/config")).json();
    formToken = config.form_token;
    const interests = document.getElementById("interests");
    config.interests.forEach((interest) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = interest.id;
      label.append(box, interest.name);
      interests.appendChild(label);
    });
    const topic = document.getElementById("contact-topic");
    config.topics.forEach((t) => topic.add(new Option(t.name, t.id)));

    document.getElementById("signup").addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = document.getElementById("signup-message");
      const body = {
        email: value("signup-email"),
        interests: Array.from(interests.querySelectorAll("input:checked")).map((b) => b.value),
        source_page: location.href.split("#")[0],
        consent_version: "2026-01",
        honeypot: value("signup-website"),
      };
      if (value("signup-name")) body.name = value("signup-name");
      if (await send("/signups", body, status)) {
        event.target.reset();
        status.textContent = "Thank you! Check your inbox for a link to confirm your subscription (none is sent if you are already subscribed).";
      }
    });

    document.getElementById("contact").addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = document.getElementById("contact-message-status");
      const body = {
        name: value("contact-name"), email: value("contact-email"), topic: value("contact-topic"),
        subject: value("contact-subject"), message: value("contact-message"), honeypot: value("contact-website"),
      };
      if (await send("/contact", body, status)) {
        event.target.reset();
        status.textContent = "Thank you! Your message is on its way, and we emailed you to say we received it.";
      }
    });
  }

  init();
})();
