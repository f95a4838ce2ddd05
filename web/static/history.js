// The history page's step control: the slider shows the step while it moves and opens it when let go;
// the arrow keys (outside form fields) go to the previous or next step. Without JS the links and the
// "Tampilkan" button do the same.
(function () {
  var form = document.getElementById('step-form');
  var range = document.getElementById('langkah');
  if (!form || !range) return;
  var output = document.getElementById('langkah-nilai');
  var button = document.querySelector('button[form=step-form]');
  range.addEventListener('input', function () {
    output.textContent = range.value + ' / ' + range.max;
  });
  range.addEventListener('change', function () {
    form.submit();
  });
  if (button) button.remove(); // the slider opens the step itself
  document.addEventListener('keydown', function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (/^(INPUT|SELECT|TEXTAREA|BUTTON|SUMMARY)$/.test(event.target.tagName)) return;
    var rel = { ArrowLeft: 'prev', ArrowRight: 'next' }[event.key];
    var link = rel && document.querySelector('#putar a[rel=' + rel + ']');
    if (link) {
      event.preventDefault();
      window.location.href = link.href;
    }
  });
})();
