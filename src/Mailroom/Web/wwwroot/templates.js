// Live preview of the template editor (progressive enhancement: without this file the Preview button posts the form).
// The draft and its test model (the form, with its antiforgery field) are posted to the page's Render handler, which
// renders them with the engine of POST /templates/validate. The HTML is then loaded into the sandboxed iframe from the
// URL the handler gives: it is never written into this page.
(() => {
  const form = document.getElementById("template-form");
  if (!form) return;
  const url = form.dataset.renderUrl;
  const frame = document.getElementById("preview-html");
  const subject = document.getElementById("preview-subject");
  const text = document.getElementById("preview-text");
  const errors = document.getElementById("preview-errors");
  const state = document.getElementById("preview-state");
  let timer = 0;
  let sequence = 0;

  async function render() {
    const mine = ++sequence;
    state.textContent = "rendering…";
    let result;
    try {
      const response = await fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      result = await response.json();
    } catch (e) {
      if (mine === sequence) state.textContent = "preview failed (" + e.message + "); use the Preview button";
      return;
    }
    if (mine !== sequence) return; // a newer draft is on its way
    state.textContent = result.state;
    if (subject) subject.textContent = result.subject ?? "";
    text.textContent = result.text ?? "";
    errors.replaceChildren(...result.errors.map((m) => { const li = document.createElement("li"); li.textContent = m; return li; }));
    errors.hidden = result.errors.length === 0;
    frame.src = result.htmlUrl ?? "about:blank";
  }

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(render, 400);
  });
  form.addEventListener("submit", (e) => {
    if (e.submitter && e.submitter.id === "preview-button") {
      e.preventDefault();
      clearTimeout(timer);
      render();
    }
  });
})();
