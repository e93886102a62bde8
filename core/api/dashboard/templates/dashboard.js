// Live panels: every few seconds each panel asks the server for its fresh HTML (the same
// template the page was rendered with) and swaps it in. Requeue forms post in the background.
(function () {
  "use strict";
  var every = Math.max(1, Number(document.body.dataset.refresh) || 5) * 1000;
  var live = document.getElementById("live");

  function refresh(section) {
    var url = "/dashboard/fragments/" + section.dataset.fragment + location.search;
    return fetch(url, {credentials: "same-origin", headers: {"X-Beat-Dashboard": "1"}})
      .then(function (answer) {
        if (answer.status === 401) { location.reload(); throw new Error("signed out"); }
        if (!answer.ok) { throw new Error(answer.status + " " + answer.statusText); }
        return answer.text();
      })
      .then(function (html) {
        var opened = Array.prototype.map.call(section.querySelectorAll("details[open]"),
                                              function (d) { return d.dataset.keep; });
        section.innerHTML = html;
        opened.forEach(function (keep) {
          var again = section.querySelector('details[data-keep="' + keep + '"]');
          if (again) { again.open = true; }
        });
      });
  }

  function refreshAll() {
    var panels = Array.prototype.slice.call(document.querySelectorAll("[data-fragment]"));
    return Promise.all(panels.map(refresh)).then(function () {
      live.textContent = "live · updated " + new Date().toLocaleTimeString();
      live.classList.remove("bad");
    }, function (problem) {
      live.textContent = "not updating: " + problem.message;
      live.classList.add("bad");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") { return; }
    if (form.action.indexOf("/dashboard/login") !== -1) { return; }
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { return; }
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST", credentials: "same-origin", headers: {"X-Beat-Dashboard": "1"},
      body: new URLSearchParams(new FormData(form))
    }).then(function (answer) {
      return answer.text().then(function (text) {
        live.textContent = text;
        live.classList.toggle("bad", !answer.ok);
      });
    }).then(refreshAll);
  });

  window.setInterval(refreshAll, every);
})();
