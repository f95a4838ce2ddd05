// The header's menus are <details> disclosures that work without this file; it closes an open one the way
// a menu is expected to close: on Escape (focus back on its button) and on a click or tap outside it.
document.addEventListener('keydown', function (event) {
  if (event.key !== 'Escape') return;
  document.querySelectorAll('details[data-menu][open]').forEach(function (menu) {
    var inside = menu.contains(document.activeElement);
    menu.open = false;
    if (inside) menu.querySelector('summary').focus();
  });
});
document.addEventListener('click', function (event) {
  document.querySelectorAll('details[data-menu][open]').forEach(function (menu) {
    if (!menu.contains(event.target)) menu.open = false;
  });
});
