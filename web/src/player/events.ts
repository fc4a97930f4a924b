// Player events (POST /events): QoE, and progress through the event consumer. Queued and sent
// every few seconds in one batch; the first frame and the end at once.
import { apiUrl, authHeaders, type PlaybackGrant, type PlayerEvent } from "../api";

const FLUSH_MS = 5000;
const EVENT_BATCH = 50;

/** What the events of one playback share: the grant, and the CDN playing now. */
export interface EventContext {
  grant: PlaybackGrant;
  cdn: () => string;
}

export interface EventCounts {
  events: string[];
  eventsSent: number;
  errors: string[];
}

export class EventSender {
  readonly sessionId = crypto.randomUUID();
  private pending: PlayerEvent[] = [];
  private readonly timer: number;

  constructor(
    private readonly profileId: string,
    private readonly context: EventContext,
    private readonly counts: EventCounts,
  ) {
    this.timer = window.setInterval(() => this.flush(), FLUSH_MS);
  }

  emit(type: string, fields: Record<string, unknown> = {}, at: Date = new Date()): void {
    const { grant, cdn } = this.context;
    this.pending.push({
      type,
      event_id: crypto.randomUUID(),
      session_id: this.sessionId,
      profile_id: this.profileId,
      title_id: grant.title_id,
      episode_id: grant.episode_id,
      asset_version: grant.asset_version,
      cdn: cdn(),
      territory: grant.territory,
      device: "web",
      client_ts: at.toISOString(),
      ...fields,
    });
    this.counts.events.push(type);
    if (this.pending.length >= EVENT_BATCH) this.flush();
  }

  flush(): void {
    if (!this.pending.length) return;
    const events = this.pending;
    this.pending = [];
    fetch(apiUrl("/events"), {
      method: "POST",
      headers: { ...authHeaders(this.profileId), "Content-Type": "application/json" },
      body: JSON.stringify({ events }),
      keepalive: true, // the last batch still goes out as the page closes
    }).then(
      (response) => {
        if (response.status === 202) this.counts.eventsSent += events.length;
        else if (response.status >= 500) this.pending = events.concat(this.pending); // busy: again
        else this.counts.errors.push(`events:${response.status}`);
      },
      () => {
        this.pending = events.concat(this.pending);
      },
    );
  }

  /** Sends what is queued and stops the timer. */
  close(): void {
    window.clearInterval(this.timer);
    this.flush();
  }
}
