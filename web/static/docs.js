// Swagger UI over this server's /openapi.json. A file of its own, not an inline
// script: the page's Content-Security-Policy allows scripts from this server only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the default badge would ask a validator on the internet
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
