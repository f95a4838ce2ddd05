// Starts Swagger UI (served from this origin, see web/api/docs.py) on the page /api/v1/docs, with the OpenAPI
// document's address from the container's data-spec-url: the site's policy allows no inline script.
(function () {
  var container = document.getElementById("swagger-ui");
  if (!container || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: container.dataset.specUrl,
    domNode: container,
    deepLinking: true,
    validatorUrl: null, // the public validator badge would fetch from another site
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
