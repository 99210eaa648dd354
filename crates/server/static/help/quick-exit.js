// Quick exit for help-seeker pages: the button and the Escape key replace this page, in place in the
// browser's history, with a neutral site, after first emptying the page so nothing of it stays on screen or
// in the back-forward cache. No storage, no cookies, no network request of our own.
(function () {
  "use strict";
  var body = document.body;
  var neutral = (body && body.getAttribute("data-neutral-url")) || "https://www.weather.gov/";
  var leaving = false;
  function leave(event) {
    if (event) { event.preventDefault(); }
    if (leaving) { return; }
    leaving = true;
    // Let the page's own code drop what it holds (open sockets, messages in memory).
    try { window.dispatchEvent(new Event("lantern:quick-exit")); } catch (e) { /* old browsers */ }
    try {
      document.title = "";
      while (document.body.firstChild) { document.body.removeChild(document.body.firstChild); }
    } catch (e) { /* keep leaving */ }
    window.location.replace(neutral);
  }
  var button = document.getElementById("quick-exit");
  if (button) { button.addEventListener("click", leave); }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") { leave(event); }
  }, true);
  // A page restored from the back-forward cache is left at once too.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { leave(); } });
})();
