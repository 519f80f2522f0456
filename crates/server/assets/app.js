// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-copy"));
  if (!input) return;
  input.select();
  var done = function () { button.textContent = "Copied"; };
  // Say "Copied" only when it was: otherwise the text stays selected for Ctrl+C.
  var fallback = function () {
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    button.textContent = ok ? "Copied" : "Press Ctrl+C to copy";
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, fallback);
  } else {
    fallback();
  }
});
