// The standalone player: player.html?title=<title or episode id>&profile=<profile id>
// [&format=dash][&from=<seconds>]#token=<access token>. The same player as the app's watch
// page, without the app around it: for embedding, benchmarks and debugging a stream.
import "./style.css";
import { adoptToken, accessToken } from "./auth";
import { loadSettings } from "./config";
import { problem } from "./dom";
import { mountPlayer } from "./player/controls";

const view = document.querySelector<HTMLElement>("#view")!;
const params = new URLSearchParams(location.search);
const token = new URLSearchParams(location.hash.slice(1)).get("token");
if (token) adoptToken(token);
const target = params.get("title");
const profile = params.get("profile");
const from = params.get("from");

loadSettings()
  .then(() => {
    if (!accessToken() || !target || !profile) {
      view.replaceChildren(
        problem("Open player.html?title=<id>&profile=<profile id>#token=<access token>."),
      );
      return;
    }
    mountPlayer(view, {
      profileId: profile,
      targetId: target,
      format: params.get("format") === "dash" ? "dash" : "hls",
      startAt: from === null ? undefined : Number(from),
      onNext: (next) => {
        params.set("title", next.id);
        params.delete("from");
        location.search = params.toString();
      },
    });
  })
  .catch((error) => view.replaceChildren(problem(error)));
