// Progressive enhancement only: every page works without this file.
// Copy buttons (data-copy="text"), and confirmation of destructive forms (data-confirm="question").
document.addEventListener("click", async (e) => {
  const button = e.target.closest("button[data-copy]");
  if (!button) return;
  e.preventDefault();
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  } catch {
    button.textContent = "Select and copy";
  }
});
document.addEventListener("submit", (e) => {
  const question = e.target.dataset.confirm;
  if (question && !window.confirm(question)) e.preventDefault();
});
// Copy buttons are shown only where the script runs (they do nothing without it).
document.querySelectorAll("button[data-copy]").forEach((b) => { b.hidden = false; });
