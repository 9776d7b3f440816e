// Shared by the page's forms: where the API is, and how its errors read.
window.Steward = {
  api: window.STEWARD_API || "",
  errorText(body) {
    const error = body && body.error;
    if (!error) return "Something went wrong. Please try again.";
    const fields = (error.fields || []).map((f) => f.field + ": " + f.message);
    return error.message + (fields.length ? " (" + fields.join("; ") + ")" : "");
  },
};
