// avatar-archiver console: the only script, loaded from /admin/assets (no inline script).
// The overview refreshes its numbers in place from /admin/overview.json.
(function () {
  'use strict';
  var section = document.querySelector('[data-refresh-url]');
  if (!section) return;
  var url = section.getAttribute('data-refresh-url');
  var every = Number(section.getAttribute('data-refresh-ms')) || 5000;
  var note = document.getElementById('refreshed');

  var body = section.querySelector('tbody');
  var rowTemplate = document.getElementById('instance-row');

  // Instances come and go while the page is open: rows follow the list the JSON gives.
  function syncRows(instanceIds) {
    if (!body || !rowTemplate || !Array.isArray(instanceIds)) return;
    var wanted = {};
    for (var i = 0; i < instanceIds.length; i++) wanted[instanceIds[i]] = true;
    var rows = body.querySelectorAll('tr[data-instance]');
    var present = {};
    for (var j = 0; j < rows.length; j++) {
      var id = rows[j].getAttribute('data-instance');
      if (wanted[id]) present[id] = true;
      else body.removeChild(rows[j]);
    }
    for (var k = 0; k < instanceIds.length; k++) {
      if (!present[instanceIds[k]]) body.appendChild(newRow(instanceIds[k]));
    }
  }

  function newRow(id) {
    var row = rowTemplate.content.querySelector('tr').cloneNode(true);
    row.setAttribute('data-instance', id);
    row.querySelector('th').textContent = id;
    var cells = row.querySelectorAll('[data-suffix]');
    for (var i = 0; i < cells.length; i++) {
      cells[i].setAttribute('data-field', id + '.' + cells[i].getAttribute('data-suffix'));
    }
    return row;
  }

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
      .then(function (overview) {
        if (!overview) return;
        syncRows(overview.instanceIds);
        apply(overview.fields);
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
