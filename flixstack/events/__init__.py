"""The event stream: player and QoE events, their consumer and aggregates."""
