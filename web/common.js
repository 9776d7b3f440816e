// Shared by the page's forms: where the API is, and how its errors read to a visitor.
// The API names fields by their JSON keys and explains them for programs; the page says
// instead what the visitor should fill in.
window.Steward = {
  api: window.STEWARD_API || "",
  fieldHelp: {
    email: "a valid email address",
    first_name: "your first name",
    last_name: "your last name",
    name: "your name",
    subject: "a subject",
    message: "your message",
    amount: "an amount",
  },
  errorText(body, status, help) {
    if (status === 429) return "Too many tries. Please wait a while and try again.";
    const error = body && body.error;
    const fields = ((error && error.fields) || []).map((f) => f.field);
    if (fields.includes("form_token")) return "This page has expired. Please reload it and try again.";
    const words = Object.assign({}, window.Steward.fieldHelp, help || {});
    const wanted = fields.filter((f) => words[f]).map((f) => words[f]);
    if (wanted.length) return "Please enter " + wanted.join(", ") + ".";
    return "Something went wrong. Please reload the page and try again.";
  },
};
