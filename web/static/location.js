// "Gunakan lokasi saya" on the complaint forms (templates/_complaint_fields.html): fills the latitude and longitude
// inputs from the browser's geolocation. Without this file (or without geolocation) the button stays hidden and the
// two inputs are typed in, or left empty. The texts come from the page, in its language.
(function () {
  var box = document.querySelector('[data-locate]');
  var latitude = document.getElementById('f-latitude');
  var longitude = document.getElementById('f-longitude');
  if (!box || !latitude || !longitude || !('geolocation' in navigator)) return;
  var button = box.querySelector('[data-locate-button]');
  var status = box.querySelector('[data-locate-status]');
  button.hidden = false;
  button.addEventListener('click', function () {
    button.disabled = true;
    status.textContent = box.dataset.locating;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        // six decimals: about 10 cm, more than any phone measures
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
        status.textContent = box.dataset.found;
        button.disabled = false;
      },
      function () {
        status.textContent = box.dataset.failed;
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
