-- Webhooks: see the MySQL migration of the same number.
CREATE TABLE webhook_endpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT NOT NULL DEFAULT '',
  disabled_at TIMESTAMP NULL,
  failing_since TIMESTAMP NULL,
  created_by INTEGER NOT NULL,
  created_at TIMESTAMP NOT NULL
);
-- split
CREATE INDEX webhook_endpoints_team ON webhook_endpoints (team_id, active, id);
-- split
CREATE TABLE webhook_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  record_kind TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  actor_id INTEGER NOT NULL,
  payload TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);
-- split
CREATE INDEX webhook_events_team ON webhook_events (team_id, id);
-- split
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL,
  endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id INTEGER NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  record_key TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at TIMESTAMP NOT NULL,
  give_up_at TIMESTAMP NOT NULL,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until TIMESTAMP NULL,
  last_code INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_at TIMESTAMP NULL,
  last_ms INTEGER NOT NULL DEFAULT 0,
  delivered_at TIMESTAMP NULL,
  created_at TIMESTAMP NOT NULL
);
-- split
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at, id);
-- split
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, record_key, status, id);
-- split
CREATE INDEX webhook_deliveries_team ON webhook_deliveries (team_id, id);
