// portaal serve only: reloads the page when a rebuild finishes, keeping the
// scroll position, and swaps stylesheets in place when only CSS changed.
// Never part of `portaal build` output.
(function () {
  "use strict";
  var key = "portaal-scroll:" + location.pathname;
  window.addEventListener("load", function () {
    var saved = sessionStorage.getItem(key);
    if (saved !== null) {
      sessionStorage.removeItem(key);
      window.scrollTo(0, parseInt(saved, 10) || 0);
    }
  });
  var events = new EventSource("/_portaal/events");
  events.onopen = function () {
    document.documentElement.setAttribute("data-portaal-live", "");
  };
  events.addEventListener("reload", function () {
    sessionStorage.setItem(key, String(window.scrollY));
    location.reload();
  });
  events.addEventListener("stylesheet", function () {
    document.querySelectorAll('link[rel="stylesheet"]').forEach(function (link) {
      var url = new URL(link.href);
      url.searchParams.set("reload", String(Date.now()));
      var fresh = link.cloneNode();
      fresh.href = url.toString();
      fresh.onload = function () { link.remove(); };
      link.after(fresh);
    });
  });
})();
