// The web app distribution's viewer-request function (CloudFront Functions, cloudfront-js-2.0).
//
// `/` and the app's path without its slash redirect to the app. Under the app, a path whose
// last segment has no file extension is one of the app's pages (it routes by hash, and the
// hosted UI sends viewers back to `/app/?code=...&state=...`), so S3 is asked for the app's
// index.html; files (hashed assets, config.json, player.html) pass through unchanged.
//
// infra/components/webapp.py puts `var APP_PATH = "/app/";` (flixstack.spec.WEBAPP_PATH)
// before this file: the code CloudFront runs is that line and this file.

function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === "/" || uri === APP_PATH.slice(0, -1)) {
    return {
      statusCode: 302,
      statusDescription: "Found",
      headers: { location: { value: APP_PATH } },
    };
  }
  if (uri.startsWith(APP_PATH)) {
    var name = uri.slice(uri.lastIndexOf("/") + 1);
    if (name.indexOf(".") === -1) {
      request.uri = APP_PATH + "index.html";
    }
  }
  return request;
}
