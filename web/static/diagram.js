// Process diagrams; every page works without this file.
// A .diagram.zoomable (_diagram.html) first shows the whole drawing: as large as fits both the box's width and its
// maximum height (style.css). Its buttons, or +, - and 0 while it has focus, zoom around the centre of the view (around
// the open task when leaving the whole view); a zoomed drawing pans by scrolling or by dragging with the mouse.
// Other diagrams keep their natural size and are scrolled so that the open (or overdue) task is in view.
(function () {
  var STEP = 1.5;

  function centreOn(box, element) {
    var a = element.getBoundingClientRect(), b = box.getBoundingClientRect();
    box.scrollLeft += a.left - b.left - b.width / 2 + a.width / 2;
    box.scrollTop += a.top - b.top - b.height / 2 + a.height / 2;
  }

  // The scale at which the whole drawing fits the box: its inner width, and its maximum height less the borders.
  function fittingScale(box, view) {
    var style = getComputedStyle(box);
    var borders = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    var height = (parseFloat(style.maxHeight) || window.innerHeight * 0.75) - borders;
    return Math.min(box.clientWidth / view.width, height / view.height);
  }

  function dragToPan(box) {
    var from = null;
    box.addEventListener('pointerdown', function (event) {
      if (event.pointerType !== 'mouse' || event.button !== 0 || !box.classList.contains('is-zoomed')) return;
      from = { x: event.clientX, y: event.clientY, left: box.scrollLeft, top: box.scrollTop };
      box.setPointerCapture(event.pointerId);
      box.classList.add('is-dragging');
    });
    box.addEventListener('pointermove', function (event) {
      if (!from) return;
      box.scrollLeft = from.left - (event.clientX - from.x);
      box.scrollTop = from.top - (event.clientY - from.y);
    });
    function stop() { from = null; box.classList.remove('is-dragging'); }
    box.addEventListener('pointerup', stop);
    box.addEventListener('pointercancel', stop);
  }

  function zoomable(box, svg, task) {
    var tools = document.querySelector('[data-diagram-tools="' + box.id + '"]');
    var view = svg.viewBox.baseVal;
    if (!tools || !view || !view.width || !view.height) return;
    var zoom = 1;
    var fit = fittingScale(box, view);
    // up to twice the drawing's own size: enough to read every label on a phone
    function most() { return Math.max(1, 2 / fit); }

    function point() {  // the point to keep in the middle, as fractions of the drawing
      var s = svg.getBoundingClientRect();
      var at = zoom === 1 && task ? task.getBoundingClientRect() : box.getBoundingClientRect();
      return [(at.left + at.width / 2 - s.left) / s.width, (at.top + at.height / 2 - s.top) / s.height];
    }

    function set(next) {
      var keep = point();
      zoom = Math.min(Math.max(next, 1), most());
      // whole pixels, rounded down, so that the whole view never needs a scroll bar
      svg.style.width = Math.floor(view.width * fit * zoom) + 'px';
      svg.style.height = Math.floor(view.height * fit * zoom) + 'px';
      box.classList.toggle('is-zoomed', zoom > 1);
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
    window.addEventListener('resize', function () {  // a turned phone or a resized window: fit the new box
      var next = fittingScale(box, view);
      // a box with no room (a page captured whole is first shrunk to one pixel) keeps its size and zoom
      if (!(next > 0.01) || next === fit) return;
      fit = next;
      set(zoom);
    });
    dragToPan(box);
    set(1);
    tools.hidden = false;
  }

  document.querySelectorAll('.diagram').forEach(function (box) {
    if (box.dataset.diagramReady) return;  // a page may load this file twice
    box.dataset.diagramReady = 'true';
    var svg = box.querySelector('svg');
    // the open task itself rather than the collapsed sub-process drawn around it on the plane above
    var task = box.querySelector('.is-overdue:not(.subprocess), .is-active:not(.subprocess)') || box.querySelector('.is-overdue, .is-active');
    if (svg && box.classList.contains('zoomable')) zoomable(box, svg, task);
    else if (task) centreOn(box, task);
  });
})();
