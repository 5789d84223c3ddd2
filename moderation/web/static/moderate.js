/* Moderation pages: keyboard work and decisions without reloading.
 *
 * The queue's buttons are plain forms (they work without this script). Here
 * they, and the keys, call the JSON review API with the session cookie and
 * the page's CSRF token; decided comments leave the list, a comment someone
 * else decided first says so. No dependencies, no build step.
 */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var holder = document.getElementById("js-messages");
  var data = holder ? holder.dataset : {};

  /* A text from the page's data-* attributes, by its attribute name ("done-approve"). */
  function msg(name) {
    return data[name.replace(/-([a-z])/g, function (whole, letter) { return letter.toUpperCase(); })] || "";
  }

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function statusName(status) {
    return msg("status-" + status) || status;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRF-Token": csrf},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {status: response.status, data: data};
      });
    });
  }

  function typing(target) {
    if (!target || target.isContentEditable) { return !!(target && target.isContentEditable); }
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    if (tag !== "INPUT") { return false; }
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(target.type) < 0;
  }

  function plainKey(event) {
    return !(event.ctrlKey || event.metaKey || event.altKey) && !typing(event.target);
  }

  function conflictText(current) {
    if (!current) { return format(msg("conflict-unknown"), {status: "?"}); }
    var last = current.last_event;
    return last ? format(msg("conflict"), {actor: last.actor, status: statusName(current.status)})
                : format(msg("conflict-unknown"), {status: statusName(current.status)});
  }

  function errorText(reply) {
    var error = reply.data && reply.data.error;
    return format(msg("failed"), {message: error ? error.message : String(reply.status)});
  }

  /* ---- the queue ---- */
  function setupQueue(list) {
    var queueStatus = list.dataset.status;
    var announce = document.getElementById("announce");
    var counter = document.getElementById("selected-count");
    var selectAll = document.getElementById("select-all");
    var bulkForm = document.getElementById("bulk");
    var current = null;

    function items() { return Array.prototype.slice.call(list.querySelectorAll("li.item")); }
    function say(message) { if (announce) { announce.textContent = message; } }
    function box(item) { return item.querySelector("input.select"); }

    function setCurrent(item, focus) {
      if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
      current = item || null;
      if (!current) { return; }
      current.classList.add("current");
      current.setAttribute("aria-current", "true");
      if (focus) {
        current.focus({preventScroll: true});
        current.scrollIntoView({block: "nearest"});
      }
    }

    function move(step) {
      var all = items();
      if (!all.length) { return; }
      var index = all.indexOf(current);
      index = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
      setCurrent(all[index], true);
    }

    function selected() {
      return items().filter(function (item) {
        var b = box(item);
        return b && b.checked && !b.disabled;
      });
    }

    function refreshSelection() {
      var chosen = selected();
      items().forEach(function (item) { item.classList.toggle("selected", chosen.indexOf(item) >= 0); });
      if (counter) { counter.textContent = String(chosen.length); }
      document.body.classList.toggle("has-selection", chosen.length > 0);
      if (selectAll) {
        var open = items().filter(function (item) { var b = box(item); return b && !b.disabled; });
        selectAll.checked = open.length > 0 && chosen.length === open.length;
        selectAll.indeterminate = chosen.length > 0 && chosen.length < open.length;
      }
    }

    function countDown() {
      var cell = document.querySelector('[data-count-for="' + queueStatus + '"]');
      if (cell) { cell.textContent = String(Math.max(0, parseInt(cell.textContent, 10) - 1)); }
      document.title = document.title.replace(/\((\d+)\)/, function (whole, n) {
        return "(" + Math.max(0, parseInt(n, 10) - 1) + ")";
      });
    }

    function leave(item) {
      var before = items();
      var index = before.indexOf(item);
      var wasCurrent = item === current;
      item.remove();
      countDown();
      var rest = items();
      if (wasCurrent) { setCurrent(rest[Math.min(index, rest.length - 1)] || null, rest.length > 0); }
      if (!rest.length) {
        var empty = document.getElementById("queue-empty");
        if (empty) { empty.hidden = false; empty.textContent = msg("empty") || empty.textContent; }
        if (bulkForm) { bulkForm.hidden = true; }
      }
      refreshSelection();
    }

    function settle(item, message, kind) {
      item.classList.add(kind);
      var note = item.querySelector(".item-message");
      note.textContent = message;
      note.hidden = false;
      Array.prototype.forEach.call(item.querySelectorAll("button, input.select"), function (control) {
        control.disabled = true;
        if (control.type === "checkbox") { control.checked = false; }
      });
      refreshSelection();
    }

    function conflicted(item, current) {
      settle(item, conflictText(current), "conflict");
      countDown();
    }

    function sessionLost() {
      var note = document.getElementById("session-expired");
      if (note) { note.hidden = false; }
      say(msg("expired"));
    }

    function decideOne(item, action) {
      if (!item || item.classList.contains("busy") || item.classList.contains("conflict")) { return; }
      var button = item.querySelector('form.decide button[value="' + action + '"]');
      if (!button || button.disabled) { say(msg("unavailable")); return; }
      item.classList.add("busy");
      postJSON("/v1/review/comments/" + item.dataset.id + "/decision",
               {action: action, expected_status: item.dataset.status})
        .then(function (reply) {
          item.classList.remove("busy");
          if (reply.status === 200) {
            say(format(msg("done-" + action), {id: item.dataset.id}));
            leave(item);
          } else if (reply.status === 409) {
            var current = reply.data.error && reply.data.error.current;
            conflicted(item, current);
            say("#" + item.dataset.id + " : " + conflictText(current));
          } else if (reply.status === 401) {
            sessionLost();
          } else {
            settle(item, errorText(reply), "failed");
            say(errorText(reply));
          }
        }, function () {
          item.classList.remove("busy");
          say(msg("network"));
        });
    }

    function decideMany(action, chosen) {
      if (!chosen.length) { return; }
      if (queueStatus === "spam" && action === "spam") { say(msg("unavailable")); return; }
      var byId = {};
      chosen.forEach(function (item) { byId[item.dataset.id] = item; item.classList.add("busy"); });
      postJSON("/v1/review/decisions", {
        ids: chosen.map(function (item) { return parseInt(item.dataset.id, 10); }),
        action: action, expected_status: queueStatus
      }).then(function (reply) {
        chosen.forEach(function (item) { item.classList.remove("busy"); });
        if (reply.status === 401) { sessionLost(); return; }
        if (reply.status !== 200) { say(errorText(reply)); return; }
        var decided = 0, conflicts = 0, other = 0;
        reply.data.results.forEach(function (result) {
          var item = byId[String(result.id)];
          if (!item) { return; }
          if (result.outcome === "decided") { decided += 1; leave(item); }
          else if (result.outcome === "conflict") { conflicts += 1; conflicted(item, result.current); }
          else { other += 1; settle(item, msg(result.outcome.replace("_", "-")) || result.outcome, "failed"); }
        });
        say(format(msg("bulk-done"), {decided: decided, conflicts: conflicts, other: other}));
      }, function () {
        chosen.forEach(function (item) { item.classList.remove("busy"); });
        say(msg("network"));
      });
    }

    function decide(action) {
      var chosen = selected();
      if (chosen.length) { decideMany(action, chosen); } else { decideOne(current, action); }
    }

    function toggle(item) {
      var b = item && box(item);
      if (b && !b.disabled) { b.checked = !b.checked; refreshSelection(); }
    }

    document.addEventListener("keydown", function (event) {
      if (!plainKey(event)) { return; }
      var key = event.key;
      var handled = true;
      if (key === "j" || key === "ArrowDown" && event.target === current) { move(1); }
      else if (key === "k" || key === "ArrowUp" && event.target === current) { move(-1); }
      else if (key === "a") { decide("approve"); }
      else if (key === "r") { decide("reject"); }
      else if (key === "s") { decide("spam"); }
      else if (key === "x") { toggle(current); }
      else if (key === "o" || (key === "Enter" && event.target === current)) {
        if (current) { window.location.assign(current.querySelector("a.open").href); }
      } else if (key === "Escape") {
        items().forEach(function (item) { var b = box(item); if (b) { b.checked = false; } });
        refreshSelection();
      } else { handled = false; }
      if (handled) { event.preventDefault(); }
    });

    list.addEventListener("click", function (event) {
      var item = event.target.closest("li.item");
      if (item && item !== current) { setCurrent(item, false); }
    });
    list.addEventListener("focusin", function (event) {
      var item = event.target.closest("li.item");
      if (item && item !== current) { setCurrent(item, false); }
    });
    document.addEventListener("change", function (event) {
      if (event.target === selectAll) {
        items().forEach(function (item) {
          var b = box(item);
          if (b && !b.disabled) { b.checked = selectAll.checked; }
        });
      }
      refreshSelection();
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var action = event.submitter ? event.submitter.value : "";
      if (form.classList.contains("decide")) {
        event.preventDefault();
        decideOne(form.closest("li.item"), action);
      } else if (form === bulkForm) {
        event.preventDefault();
        decideMany(action, selected());
      }
    });

    setCurrent(items()[0] || null, false);
    refreshSelection();
    document.body.classList.add("scripted");
  }

  /* ---- one comment: a, r, s press the matching button ---- */
  function setupComment(form) {
    document.addEventListener("keydown", function (event) {
      if (!plainKey(event)) { return; }
      var names = {a: "approve", r: "reject", s: "spam"};
      var button = names[event.key] && form.querySelector('button[value="' + names[event.key] + '"]');
      if (button) {
        event.preventDefault();
        button.click();
      }
    });
  }

  var queue = document.getElementById("queue");
  if (queue) { setupQueue(queue); }
  var actions = document.getElementById("comment-actions");
  if (actions) { setupComment(actions); }
}());
