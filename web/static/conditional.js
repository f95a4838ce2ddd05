// Fields of one choice only (web/pages/formrender.py, x-when in a form's schema): on step 3's verification the units go
// with "teruskan", the question with "minta_kelengkapan", the archive reason with "arsipkan". They hide while another
// choice is made; without this file every field shows, and the server drops those of another choice.
(function () {
  var fields = document.querySelectorAll('[data-when-field]');
  if (!fields.length) return;
  function chosen(name) {
    var picked = document.querySelector('input[name="' + name + '"]:checked');
    if (picked) return picked.value;
    var select = document.querySelector('select[name="' + name + '"]');
    return select ? select.value : '';
  }
  function update() {
    fields.forEach(function (field) {
      field.hidden = chosen(field.dataset.whenField) !== field.dataset.whenValue;
    });
  }
  document.addEventListener('change', update);
  update();
})();
