// Live SLA countdowns: every element with data-countdown (a Unix time) shows the time left or
// overdue, using the translated labels the server put on it. No library needed.
(function () {
  "use strict";

  // The browser's copy of vipsupport.durations.compact_duration(..., seconds=True); a test runs
  // both on the same values, so the first second and every later one read alike.
  function compactDuration(seconds) {
    var s = Math.abs(seconds);
    var days = Math.floor(s / 86400);
    var hours = Math.floor((s % 86400) / 3600);
    var minutes = Math.floor((s % 3600) / 60);
    var secs = Math.floor(s % 60);
    if (days > 0) return days + "d " + hours + "h";
    if (hours > 0) return hours + "h " + String(minutes).padStart(2, "0") + "m";
    return minutes + "m " + String(secs).padStart(2, "0") + "s";
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      var left = Number(element.dataset.countdown) - now;
      var label = left >= 0 ? element.dataset.future : element.dataset.past;
      element.textContent = label.replace("%s", compactDuration(left));
      var badge = element.closest(".deadline");
      if (badge && left < 0) {
        badge.classList.remove("ok", "warned");
        badge.classList.add("breached");
      } else if (badge && badge.dataset.warn && Number(badge.dataset.warn) <= now && !badge.classList.contains("breached")) {
        badge.classList.remove("ok");
        badge.classList.add("warned");
      }
    });
  }

  window.vipCompactDuration = compactDuration;

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", tick);
})();
