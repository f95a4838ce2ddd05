// Scroll each case diagram so that its open (or overdue) task is in view; the page works without it.
document.querySelectorAll('.diagram').forEach(function (box) {
  var at = box.querySelector('.is-overdue, .is-active');
  if (!at) return;
  var a = at.getBoundingClientRect(), b = box.getBoundingClientRect();
  box.scrollLeft += a.left - b.left - b.width / 2 + a.width / 2;
  box.scrollTop += a.top - b.top - b.height / 2 + a.height / 2;
});
