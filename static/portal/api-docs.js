// Starts Swagger UI on the API reference pages (no inline script: the Content-Security-Policy forbids it).
// The page's #api-reference element says which document to show and whether "Try it out" may send requests.
(function () {
  "use strict";
  function start() {
    var element = document.getElementById("api-reference");
    if (!element || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    var tryIt = element.dataset.tryIt === "true";
    window.SwaggerUIBundle({
      url: element.dataset.openapiUrl,
      domNode: element,
      deepLinking: true,
      tryItOutEnabled: false,
      supportedSubmitMethods: tryIt ? ["get", "post", "put", "delete", "patch"] : [],
      validatorUrl: null,
      withCredentials: false,
      persistAuthorization: false,
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
