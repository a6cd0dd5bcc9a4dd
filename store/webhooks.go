package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// MaxWebhookURLLen bounds an endpoint's URL.
const MaxWebhookURLLen = 2000

// maxWebhookEndpoints bounds the endpoints of one team.
const maxWebhookEndpoints = 20

// WebhookEndpoint is a URL a team's owner or admin registered to receive
// events. Secret signs every delivery (it has to be kept readable for that).
type WebhookEndpoint struct {
	bun.BaseModel `bun:"table:webhook_endpoints,alias:we"`

	ID             int64     `bun:"id,pk,autoincrement"`
	TeamID         int64     `bun:"team_id,notnull"`
	URL            string    `bun:"url,notnull"`
	Events         string    `bun:"events,notnull"` // comma-separated event types
	Secret         string    `bun:"secret,notnull"`
	Active         bool      `bun:"active,notnull"`
	DisabledReason string    `bun:"disabled_reason,notnull"`
	DisabledAt     time.Time `bun:"disabled_at,nullzero"`
	FailingSince   time.Time `bun:"failing_since,nullzero"`
	CreatedBy      int64     `bun:"created_by,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
}

// ValidateWebhookURL checks the shape of an endpoint's URL: absolute http
// or https with a host. Whether the host is a public address is checked by
// the sender (at registration and again at every delivery).
func ValidateWebhookURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if msg := TextError("The URL", raw, MaxWebhookURLLen, false); msg != "" {
		return msg
	}
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "Enter the URL that should receive the events."
	case err != nil || u.Host == "" || u.Hostname() == "":
		return "Enter a full URL, like https://example.com/hooks/sherpa."
	case u.Scheme != "http" && u.Scheme != "https":
		return "Only http and https URLs can receive webhooks."
	case u.User != nil:
		return "Put no user name or password in the URL; check the signature instead."
	}
	return ""
}

// ValidateWebhookEvents checks a choice of event types.
func ValidateWebhookEvents(events []string) string {
	if len(events) == 0 {
		return "Choose at least one event."
	}
	for _, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			return "Choose among the listed events."
		}
	}
	return ""
}

// CreateWebhookEndpoint registers an endpoint for the team; only owners and
// admins may. The secret is generated here.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, teamID int64, actor *User, rawURL string, events []string) (*WebhookEndpoint, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	if !actor.CanManage() {
		return nil, ErrNotAllowed
	}
	fe := FieldErrors{}
	if msg := ValidateWebhookURL(rawURL); msg != "" {
		fe["url"] = msg
	}
	if msg := ValidateWebhookEvents(events); msg != "" {
		fe["events"] = msg
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	// Keep the events in their canonical order, each once.
	var evs []string
	for _, e := range WebhookEvents {
		if slices.Contains(events, e) {
			evs = append(evs, e)
		}
	}
	ep := &WebhookEndpoint{TeamID: teamID, URL: strings.TrimSpace(rawURL), Events: strings.Join(evs, ","),
		Secret: "whsec_" + base64.RawURLEncoding.EncodeToString(raw[:]), Active: true, CreatedBy: actor.ID, CreatedAt: s.now()}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*WebhookEndpoint)(nil)).Where("team_id = ?", teamID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= maxWebhookEndpoints {
			return FieldErrors{"url": fmt.Sprintf("A team can have %d endpoints; delete one first.", maxWebhookEndpoints)}
		}
		_, err = tx.NewInsert().Model(ep).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return ep, nil
}

// WebhookEndpoints lists the team's endpoints, oldest first.
func (s *Store) WebhookEndpoints(ctx context.Context, teamID int64) ([]WebhookEndpoint, error) {
	var eps []WebhookEndpoint
	if err := s.DB.NewSelect().Model(&eps).Where("team_id = ?", teamID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("webhook endpoints of team %d: %w", teamID, err)
	}
	return eps, nil
}

// WebhookEndpointByID loads one endpoint of the team.
func (s *Store) WebhookEndpointByID(ctx context.Context, teamID, id int64) (*WebhookEndpoint, error) {
	ep := new(WebhookEndpoint)
	if err := s.DB.NewSelect().Model(ep).Where("team_id = ?", teamID).Where("id = ?", id).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("webhook endpoint %d: %w", id, err)
	}
	return ep, nil
}

// DeleteWebhookEndpoint removes an endpoint with its deliveries (owners and
// admins only).
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, teamID int64, actor *User, id int64) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	if !actor.CanManage() {
		return ErrNotAllowed
	}
	res, err := s.DB.NewDelete().Model((*WebhookEndpoint)(nil)).Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// EnableWebhookEndpoint turns a disabled endpoint on again: its pending
// deliveries resume, each with a fresh day of retries.
func (s *Store) EnableWebhookEndpoint(ctx context.Context, teamID int64, actor *User, id int64) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	if !actor.CanManage() {
		return ErrNotAllowed
	}
	now := s.now()
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*WebhookEndpoint)(nil)).Set("active = 1").Set("disabled_reason = ''").
			Set("disabled_at = NULL").Set("failing_since = NULL").Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("enable webhook endpoint %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.NewUpdate().Model((*WebhookDelivery)(nil)).Set("next_at = ?", now).Set("give_up_at = ?", now.Add(WebhookRetryFor)).
			Where("endpoint_id = ?", id).Where("status = ?", DeliveryPending).Exec(ctx)
		return err
	})
}

// WebhookDeliveries lists the team's latest deliveries, newest first, with
// their event type and endpoint URL; endpointID 0 means every endpoint.
func (s *Store) WebhookDeliveries(ctx context.Context, teamID, endpointID int64, limit int) ([]WebhookDelivery, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var rows []WebhookDelivery
	q := s.DB.NewSelect().Model(&rows).ColumnExpr("wd.*").ColumnExpr("ev.type AS event_type, we.url AS endpoint_url").
		Join("JOIN webhook_events AS ev ON ev.id = wd.event_id").Join("JOIN webhook_endpoints AS we ON we.id = wd.endpoint_id").
		Where("wd.team_id = ?", teamID)
	if endpointID != 0 {
		q = q.Where("wd.endpoint_id = ?", endpointID)
	}
	if err := q.OrderExpr("wd.id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("webhook deliveries of team %d: %w", teamID, err)
	}
	return rows, nil
}

// RedeliverWebhook sends a delivery's event to its endpoint again, as a new
// delivery (the log keeps the old one). Owners and admins only.
func (s *Store) RedeliverWebhook(ctx context.Context, teamID int64, actor *User, deliveryID int64) (*WebhookDelivery, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	if !actor.CanManage() {
		return nil, ErrNotAllowed
	}
	old := new(WebhookDelivery)
	if err := s.DB.NewSelect().Model(old).Where("team_id = ?", teamID).Where("id = ?", deliveryID).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load delivery %d: %w", deliveryID, err)
	}
	now := s.now()
	d := &WebhookDelivery{TeamID: teamID, EndpointID: old.EndpointID, EventID: old.EventID, RecordKey: old.RecordKey,
		Status: DeliveryPending, NextAt: now, GiveUpAt: now.Add(WebhookRetryFor), CreatedAt: now}
	if _, err := s.DB.NewInsert().Model(d).Exec(ctx); err != nil {
		return nil, fmt.Errorf("redeliver %d: %w", deliveryID, err)
	}
	return d, nil
}

// DeliveryJob is a leased delivery with what sending it needs.
type DeliveryJob struct {
	WebhookDelivery
	Event    WebhookEvent
	URL      string
	Secret   string
	Lease    time.Time // until when this worker holds it
	leaseOwn string
	// endpointFailing: the endpoint's last deliveries failed (a success
	// must clear that).
	endpointFailing bool
}

// ClaimDeliveries leases up to n deliveries that are due, for owner, until
// now+lease: pending, due, not leased by a live worker, of an active
// endpoint, and the oldest pending one of their record at their endpoint
// (so each endpoint hears of one record's changes in order). A lease that
// runs out (its worker died) makes the delivery claimable again, so nothing
// is lost when an instance stops mid-queue.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, n int, lease time.Duration) ([]DeliveryJob, error) {
	now := s.now()
	var ids []int64
	err := s.DB.NewSelect().TableExpr("webhook_deliveries AS d").Column("d.id").
		Join("JOIN webhook_endpoints AS e ON e.id = d.endpoint_id").
		Where("d.status = ?", DeliveryPending).Where("d.next_at <= ?", now).
		Where("(d.lease_until IS NULL OR d.lease_until < ?)", now).Where("e.active = 1").
		Where("NOT EXISTS (SELECT 1 FROM webhook_deliveries AS p WHERE p.endpoint_id = d.endpoint_id AND p.record_key = d.record_key AND p.status = ? AND p.id < d.id)", DeliveryPending).
		OrderExpr("d.next_at, d.id").Limit(int64(n)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find due deliveries: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	until := now.Add(lease)
	// Compare and set: of two workers that found the same rows, each gets
	// the ones its UPDATE changed.
	if _, err := s.DB.NewUpdate().Model((*WebhookDelivery)(nil)).Set("lease_owner = ?", owner).Set("lease_until = ?", until).
		Where("id IN (?)", bun.In(ids)).Where("status = ?", DeliveryPending).
		Where("(lease_until IS NULL OR lease_until < ?)", now).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lease deliveries: %w", err)
	}
	var rows []struct {
		WebhookDelivery
		EvType      string    `bun:"ev_type"`
		EvKind      string    `bun:"ev_record_kind"`
		EvRecord    int64     `bun:"ev_record_id"`
		EvActor     int64     `bun:"ev_actor_id"`
		EvPayload   string    `bun:"ev_payload"`
		EvCreatedAt time.Time `bun:"ev_created_at"`
		URL         string    `bun:"ep_url"`
		Secret      string    `bun:"ep_secret"`
		Failing     bool      `bun:"ep_failing"`
	}
	err = s.DB.NewSelect().Model((*WebhookDelivery)(nil)).ColumnExpr("wd.*").
		ColumnExpr("ev.type AS ev_type, ev.record_kind AS ev_record_kind, ev.record_id AS ev_record_id, ev.actor_id AS ev_actor_id, ev.payload AS ev_payload, ev.created_at AS ev_created_at").
		ColumnExpr("we.url AS ep_url, we.secret AS ep_secret, CASE WHEN we.failing_since IS NULL THEN 0 ELSE 1 END AS ep_failing").
		Join("JOIN webhook_events AS ev ON ev.id = wd.event_id").Join("JOIN webhook_endpoints AS we ON we.id = wd.endpoint_id").
		Where("wd.id IN (?)", bun.In(ids)).Where("wd.lease_owner = ?", owner).Where("wd.lease_until = ?", until).
		OrderExpr("wd.id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load leased deliveries: %w", err)
	}
	jobs := make([]DeliveryJob, len(rows))
	for i, r := range rows {
		jobs[i] = DeliveryJob{WebhookDelivery: r.WebhookDelivery, URL: r.URL, Secret: r.Secret, Lease: until, leaseOwn: owner, endpointFailing: r.Failing,
			Event: WebhookEvent{ID: r.EventID, TeamID: r.TeamID, Type: r.EvType, RecordKind: r.EvKind, RecordID: r.EvRecord,
				ActorID: r.EvActor, Payload: r.EvPayload, CreatedAt: r.EvCreatedAt}}
	}
	return jobs, nil
}

// DeliveryResult is what one attempt got.
type DeliveryResult struct {
	Code     int           // HTTP status; 0 when no answer came
	Err      string        // why it failed, for the log
	Duration time.Duration // how long the attempt took
	// RetryIn is when to try again after a failure.
	RetryIn time.Duration
}

// OK reports whether the receiver took the event (any 2xx).
func (r DeliveryResult) OK() bool { return r.Code >= 200 && r.Code < 300 }

// RecordDelivery writes the outcome of an attempt of a leased job: success
// ends it; a failure schedules the next attempt, or gives up once the job
// is a day old. An endpoint whose every delivery has failed for a day is
// disabled with the reason, which its admins see on the team page. It
// returns whether the endpoint was disabled by this result.
func (s *Store) RecordDelivery(ctx context.Context, job *DeliveryJob, r DeliveryResult) (disabled bool, err error) {
	ids, err := s.RecordDeliveries(ctx, []DeliveryJob{*job}, []DeliveryResult{r})
	return len(ids) > 0, err
}

// RecordDeliveries is RecordDelivery for many attempts in one transaction
// (one commit for a batch, not one per delivery). It returns the endpoints
// it disabled.
func (s *Store) RecordDeliveries(ctx context.Context, jobs []DeliveryJob, results []DeliveryResult) (disabled []int64, err error) {
	now := s.now()
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		disabled = disabled[:0]
		cleared := map[int64]bool{}
		for i := range jobs {
			job, r := &jobs[i], results[i]
			q := tx.NewUpdate().Model((*WebhookDelivery)(nil)).Set("attempts = attempts + 1").Set("last_code = ?", r.Code).
				Set("last_error = ?", shorten(StripControl(r.Err), 500)).Set("last_at = ?", now).
				Set("last_ms = ?", int(r.Duration/time.Millisecond)).Set("lease_owner = ''").Set("lease_until = NULL")
			switch {
			case r.OK():
				q = q.Set("status = ?", DeliveryDelivered).Set("delivered_at = ?", now)
			case !now.Before(job.GiveUpAt):
				q = q.Set("status = ?", DeliveryFailed)
			default:
				q = q.Set("next_at = ?", now.Add(r.RetryIn))
			}
			res, err := q.Where("id = ?", job.ID).Where("lease_owner = ?", job.leaseOwn).Where("lease_until = ?", job.Lease).Exec(ctx)
			if err != nil {
				return fmt.Errorf("record delivery %d: %w", job.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // the lease ran out and another worker has the job
			}
			if r.OK() {
				// Only an endpoint known to be failing needs clearing.
				if job.endpointFailing && !cleared[job.EndpointID] {
					cleared[job.EndpointID] = true
					if _, err := tx.NewUpdate().Model((*WebhookEndpoint)(nil)).Set("failing_since = NULL").
						Where("id = ?", job.EndpointID).Exec(ctx); err != nil {
						return err
					}
				}
				continue
			}
			off, err := s.noteFailure(ctx, tx, job.EndpointID, r, now)
			if err != nil {
				return err
			}
			if off {
				disabled = append(disabled, job.EndpointID)
			}
		}
		return nil
	})
	return disabled, err
}

// noteFailure marks an endpoint failing since now (if it was not), or
// disables it when it has been failing for WebhookRetryFor.
func (s *Store) noteFailure(ctx context.Context, tx bun.Tx, endpointID int64, r DeliveryResult, now time.Time) (bool, error) {
	ep := new(WebhookEndpoint)
	if err := s.forUpdate(tx.NewSelect().Model(ep).Where("id = ?", endpointID)).Scan(ctx); err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, err
	}
	if ep.FailingSince.IsZero() {
		_, err := tx.NewUpdate().Model((*WebhookEndpoint)(nil)).Set("failing_since = ?", now).Where("id = ?", ep.ID).Exec(ctx)
		return false, err
	}
	if !ep.Active || now.Sub(ep.FailingSince) < WebhookRetryFor {
		return false, nil
	}
	reason := fmt.Sprintf("Every delivery has failed since %s UTC (a day or more); the last one: %s",
		ep.FailingSince.Format("2006-01-02 15:04"), failureText(r.Code, shorten(StripControl(r.Err), 300)))
	_, err := tx.NewUpdate().Model((*WebhookEndpoint)(nil)).Set("active = 0").Set("disabled_at = ?", now).
		Set("disabled_reason = ?", shorten(reason, 500)).Where("id = ?", ep.ID).Exec(ctx)
	return err == nil, err
}

func failureText(code int, msg string) string {
	if code != 0 {
		return fmt.Sprintf("HTTP %d %s", code, msg)
	}
	return msg
}

// WebhookQueueDepth counts pending deliveries (for metrics and benchmarks).
func (s *Store) WebhookQueueDepth(ctx context.Context) (int, error) {
	n, err := s.DB.NewSelect().Model((*WebhookDelivery)(nil)).Where("status = ?", DeliveryPending).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	return int(n), nil
}

// WebhookLogKept is how long finished deliveries stay in the log.
const WebhookLogKept = 30 * 24 * time.Hour

// DeleteOldWebhookLog deletes finished deliveries older than WebhookLogKept
// and the events no delivery refers to any more.
func (s *Store) DeleteOldWebhookLog(ctx context.Context) (int64, error) {
	before := s.now().Add(-WebhookLogKept)
	res, err := s.DB.NewDelete().Model((*WebhookDelivery)(nil)).Where("status <> ?", DeliveryPending).
		Where("created_at < ?", before).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete old webhook deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	// What waits for an endpoint disabled that long is given up too.
	if _, err := s.DB.NewDelete().Model((*WebhookDelivery)(nil)).Where("status = ?", DeliveryPending).Where("created_at < ?", before).
		Where("endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = 0)").Exec(ctx); err != nil {
		return n, fmt.Errorf("delete old waiting deliveries: %w", err)
	}
	if _, err := s.DB.NewDelete().TableExpr("webhook_events").Where("created_at < ?", before).
		Where("NOT EXISTS (SELECT 1 FROM webhook_deliveries AS d WHERE d.event_id = webhook_events.id)").Exec(ctx); err != nil {
		return n, fmt.Errorf("delete old webhook events: %w", err)
	}
	return n, nil
}
