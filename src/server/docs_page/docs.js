// Swagger UI over this server's own description. The document's `servers` entry is this
// server as the browser reached it, so "Try it out" calls the same host and port.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  displayRequestDuration: true,
  // Nothing leaves the machine: no validator badge calling validator.swagger.io.
  validatorUrl: null,
});
