// The watch page: the player, full width; from the stored position unless ?from= says.
import * as api from "../api";
import { mountPlayer } from "../player/controls";
import { go, type View } from "../router";

export function watchView(view: View, profile: api.Profile, targetId: string, from: string | null): void {
  const container = document.createElement("div");
  view.show(container);
  const mounted = mountPlayer(container, {
    profileId: profile.id,
    targetId,
    format: "hls",
    startAt: from === null ? undefined : Number(from),
    onNext: (next) => go(`#/watch/${encodeURIComponent(next.id)}`),
    onBack: () => history.back(),
  });
  view.hold(mounted.destroy);
}
