-- Webhooks: endpoints a team registers; the outbox of events, written in
-- the transaction of the change they announce; and one delivery job per
-- event and endpoint, which any instance leases, sends, retries with
-- backoff and logs.
CREATE TABLE webhook_endpoints (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  url VARCHAR(2000) NOT NULL,
  events VARCHAR(500) NOT NULL,
  secret VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  active TINYINT NOT NULL DEFAULT 1,
  disabled_reason VARCHAR(500) NOT NULL DEFAULT '',
  disabled_at DATETIME(6) NULL,
  failing_since DATETIME(6) NULL,
  created_by BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY webhook_endpoints_team (team_id, active, id),
  CONSTRAINT webhook_endpoints_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE webhook_events (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  type VARCHAR(40) NOT NULL,
  record_kind VARCHAR(16) NOT NULL,
  record_id BIGINT NOT NULL,
  actor_id BIGINT NOT NULL,
  payload MEDIUMTEXT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY webhook_events_team (team_id, id),
  CONSTRAINT webhook_events_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE webhook_deliveries (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  endpoint_id BIGINT NOT NULL,
  event_id BIGINT NOT NULL,
  record_key VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status VARCHAR(12) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_at DATETIME(6) NOT NULL,
  give_up_at DATETIME(6) NOT NULL,
  lease_owner VARCHAR(64) NOT NULL DEFAULT '',
  lease_until DATETIME(6) NULL,
  last_code INT NOT NULL DEFAULT 0,
  last_error VARCHAR(500) NOT NULL DEFAULT '',
  last_at DATETIME(6) NULL,
  last_ms INT NOT NULL DEFAULT 0,
  delivered_at DATETIME(6) NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY webhook_deliveries_due (status, next_at, id),
  KEY webhook_deliveries_order (endpoint_id, record_key, status, id),
  KEY webhook_deliveries_team (team_id, id),
  CONSTRAINT webhook_deliveries_endpoint_fk FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  CONSTRAINT webhook_deliveries_event_fk FOREIGN KEY (event_id) REFERENCES webhook_events (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
