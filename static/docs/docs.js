// Renders the server's own OpenAPI document; nothing is fetched from elsewhere.
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#api", deepLinking: true, validatorUrl: null });
