// Process diagrams; every page works without this file.
// A .diagram.zoomable fits the width (style.css, at --zoom 1); its buttons, or +, - and 0 while it has focus, zoom it
// around the centre of the view (around the open task when leaving the fitted view). Other diagrams keep their
// natural size and are scrolled so that the open (or overdue) task is in view.
(function () {
  var STEP = 1.5;

  function centreOn(box, element) {
    var a = element.getBoundingClientRect(), b = box.getBoundingClientRect();
    box.scrollLeft += a.left - b.left - b.width / 2 + a.width / 2;
    box.scrollTop += a.top - b.top - b.height / 2 + a.height / 2;
  }

  function zoomable(box, svg, task) {
    var tools = document.querySelector('[data-diagram-tools="' + box.id + '"]');
    var zoom = 1;
    // up to twice the drawing's own size: enough to read every label on a phone
    function most() { return Math.max(1, (2 * svg.viewBox.baseVal.width) / box.clientWidth); }

    function point() {  // the point to keep in the middle, as fractions of the drawing
      var s = svg.getBoundingClientRect();
      var at = zoom === 1 && task ? task.getBoundingClientRect() : box.getBoundingClientRect();
      return [(at.left + at.width / 2 - s.left) / s.width, (at.top + at.height / 2 - s.top) / s.height];
    }

    function set(next) {
      var keep = point();
      zoom = Math.min(Math.max(next, 1), most());
      box.style.setProperty('--zoom', String(zoom));
      var s = svg.getBoundingClientRect();
      box.scrollLeft = keep[0] * s.width - box.clientWidth / 2;
      box.scrollTop = keep[1] * s.height - box.clientHeight / 2;
      // aria-disabled, not disabled: the button keeps the keyboard focus
      tools.querySelector('[data-zoom="in"]').setAttribute('aria-disabled', String(zoom >= most()));
      tools.querySelector('[data-zoom="out"]').setAttribute('aria-disabled', String(zoom <= 1));
      tools.querySelector('[data-zoom="fit"]').setAttribute('aria-disabled', String(zoom <= 1));
    }

    var actions = { in: function () { set(zoom * STEP); }, out: function () { set(zoom / STEP); }, fit: function () { set(1); } };
    var keys = { '+': 'in', '=': 'in', '-': 'out', '0': 'fit' };
    tools.addEventListener('click', function (event) {
      var button = event.target.closest('[data-zoom]');
      if (button) actions[button.dataset.zoom]();
    });
    box.addEventListener('keydown', function (event) {
      var action = keys[event.key];
      if (!action || event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      actions[action]();
    });
    set(1);
    tools.hidden = false;
  }

  document.querySelectorAll('.diagram').forEach(function (box) {
    var svg = box.querySelector('svg');
    var task = box.querySelector('.is-overdue, .is-active');
    if (svg && box.classList.contains('zoomable')) zoomable(box, svg, task);
    else if (task) centreOn(box, task);
  });
})();
