// avatar-archiver console: the only script, loaded from /admin/assets (no inline script).
// The overview refreshes its numbers in place from /admin/overview.json.
(function () {
  'use strict';
  var section = document.querySelector('[data-refresh-url]');
  if (!section) return;
  var url = section.getAttribute('data-refresh-url');
  var every = Number(section.getAttribute('data-refresh-ms')) || 5000;
  var note = document.getElementById('refreshed');

  function apply(fields) {
    var cells = section.querySelectorAll('[data-field]');
    for (var i = 0; i < cells.length; i++) {
      var value = fields[cells[i].getAttribute('data-field')];
      if (typeof value === 'string' && cells[i].textContent !== value) cells[i].textContent = value;
    }
    if (note) note.textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
  }

  function poll() {
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (response) {
        if (response.status === 401) {
          window.location.assign('/admin/sign-in');
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (fields) {
        if (fields) apply(fields);
      })
      .catch(function () {
        if (note) note.textContent = 'Could not refresh; retrying.';
      })
      .then(function () {
        window.setTimeout(poll, every);
      });
  }
  window.setTimeout(poll, every);
})();
