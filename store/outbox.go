package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Webhook event types.
const (
	EventContactCreated   = "contact.created"
	EventContactUpdated   = "contact.updated"
	EventContactDeleted   = "contact.deleted"
	EventDealCreated      = "deal.created"
	EventDealUpdated      = "deal.updated"
	EventDealDeleted      = "deal.deleted"
	EventDealStageChanged = "deal.stage_changed"
	EventDealWon          = "deal.won"
	EventDealLost         = "deal.lost"
	EventNoteAdded        = "note.added"
)

// WebhookEvents lists every event type an endpoint can subscribe to.
var WebhookEvents = []string{
	EventContactCreated, EventContactUpdated, EventContactDeleted,
	EventDealCreated, EventDealUpdated, EventDealDeleted, EventDealStageChanged, EventDealWon, EventDealLost,
	EventNoteAdded,
}

// change is what a write method announces: one record, and the event types
// the write amounts to (a deal closed as won is updated, changed stage and
// won). emit turns it into outbox rows.
type change struct {
	team, actor int64
	kind        string // "contact", "deal" or "note"
	id          int64
	types       []string
	// A stage change: from and to.
	from, to string
}

// stageEvents are the events of a deal moving from one stage to another,
// after the given ones.
func stageEvents(from, to string, base ...string) []string {
	if from == to {
		return base
	}
	out := append(base, EventDealStageChanged)
	switch to {
	case StageWon:
		out = append(out, EventDealWon)
	case StageLost:
		out = append(out, EventDealLost)
	}
	return out
}

// emit records a change in the outbox inside the write's own transaction:
// one event row per subscribed type and one delivery job per subscribed
// endpoint, so a change is never announced without happening, nor happens
// without being announced. A team without webhooks pays one index lookup.
// It must run before a delete (the payload is the record as it was).
func (s *Store) emit(ctx context.Context, tx bun.IDB, ch change) error {
	return s.emitMany(ctx, tx, []change{ch})
}

// emitMany records the changes of a batch (one team's) as emit does, loading
// the team's endpoints once: a batch of a team without an endpoint that
// subscribes to any of its types costs that one lookup. Delivery jobs are
// inserted in batches.
func (s *Store) emitMany(ctx context.Context, tx bun.IDB, chs []change) error {
	if len(chs) == 0 {
		return nil
	}
	team := chs[0].team
	// Every contact, deal and note write announces itself here, so this is
	// where it counts in the team's list version too (listversion.go).
	if err := s.listChanged(ctx, tx, team); err != nil {
		return err
	}
	// A deleted contact or deal takes its terms with it (ON DELETE
	// CASCADE): the search's sets change too. Creations and edits write
	// their terms through replaceTerms and insertTerms, which count them.
	for _, ch := range chs {
		if slices.Contains(ch.types, EventContactDeleted) || slices.Contains(ch.types, EventDealDeleted) {
			if err := termsChanged(ctx, tx, team); err != nil {
				return err
			}
			break
		}
	}
	var eps []WebhookEndpoint
	// Disabled endpoints too: their deliveries wait, and go out when an
	// admin enables the endpoint again.
	if err := tx.NewSelect().Model(&eps).Column("id", "events").
		Where("team_id = ?", team).Scan(ctx); err != nil {
		return fmt.Errorf("outbox: endpoints of team %d: %w", team, err)
	}
	if len(eps) == 0 {
		return nil
	}
	subscribers := map[string][]int64{}
	for _, ep := range eps {
		for _, t := range ep.EventList() {
			subscribers[t] = append(subscribers[t], ep.ID)
		}
	}
	now := s.now()
	var currency *string
	var jobs []WebhookDelivery
	for _, ch := range chs {
		if ch.team != team {
			return fmt.Errorf("outbox: changes of teams %d and %d in one batch", team, ch.team)
		}
		var data []byte
		key := ch.kind + ":" + strconv.FormatInt(ch.id, 10)
		for _, t := range ch.types {
			ids := subscribers[t]
			if len(ids) == 0 {
				continue
			}
			if data == nil {
				var err error
				if data, err = s.eventData(ctx, tx, ch, &currency); err != nil {
					return err
				}
			}
			ev := &WebhookEvent{TeamID: ch.team, Type: t, RecordKind: ch.kind, RecordID: ch.id, ActorID: ch.actor,
				Payload: string(data), CreatedAt: now}
			if _, err := tx.NewInsert().Model(ev).Exec(ctx); err != nil {
				return fmt.Errorf("outbox: insert event: %w", err)
			}
			for _, ep := range ids {
				jobs = append(jobs, WebhookDelivery{TeamID: ch.team, EndpointID: ep, EventID: ev.ID, RecordKey: key, Status: DeliveryPending,
					NextAt: now, GiveUpAt: now.Add(WebhookRetryFor), CreatedAt: now})
			}
		}
	}
	for part := range slices.Chunk(jobs, 500) {
		if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
			return fmt.Errorf("outbox: insert deliveries: %w", err)
		}
	}
	return nil
}

// eventData is the payload's "data": the record as it is now in the
// transaction (before a delete: as it was), and a stage change's stages.
func (s *Store) eventData(ctx context.Context, tx bun.IDB, ch change, currency **string) ([]byte, error) {
	data := map[string]any{}
	switch ch.kind {
	case "contact":
		c, err := s.contactByID(ctx, tx, ch.team, ch.id)
		if err != nil {
			return nil, fmt.Errorf("outbox: load contact %d: %w", ch.id, err)
		}
		data["contact"] = c.JSON()
	case "deal":
		d := new(Deal)
		if err := s.selectDeals(tx, primaryKey).Where("d.team_id = ?", ch.team).Where("d.id = ?", ch.id).Scan(ctx, d); err != nil {
			return nil, fmt.Errorf("outbox: load deal %d: %w", ch.id, err)
		}
		if *currency == nil {
			var cur string
			if err := tx.NewSelect().Model((*Team)(nil)).Column("currency").Where("id = ?", ch.team).Scan(ctx, &cur); err != nil {
				return nil, fmt.Errorf("outbox: currency: %w", err)
			}
			*currency = &cur
		}
		data["deal"] = d.JSON(**currency)
		if ch.from != ch.to {
			data["from_stage"], data["to_stage"] = ch.from, ch.to
		}
	case "note":
		n := new(Note)
		if err := s.selectNotes(tx).Where("n.team_id = ?", ch.team).Where("n.id = ?", ch.id).Scan(ctx, n); err != nil {
			return nil, fmt.Errorf("outbox: load note %d: %w", ch.id, err)
		}
		data["note"] = n.JSON()
	}
	return json.Marshal(data)
}

// WebhookRetryFor is how long a delivery is retried, and how long an
// endpoint may fail every delivery before it is disabled.
const WebhookRetryFor = 24 * time.Hour

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after WebhookRetryFor
)

// WebhookEvent is one outbox row: an event of one record.
type WebhookEvent struct {
	bun.BaseModel `bun:"table:webhook_events,alias:ev"`

	ID         int64     `bun:"id,pk,autoincrement"`
	TeamID     int64     `bun:"team_id,notnull"`
	Type       string    `bun:"type,notnull"`
	RecordKind string    `bun:"record_kind,notnull"`
	RecordID   int64     `bun:"record_id,notnull"`
	ActorID    int64     `bun:"actor_id,notnull"`
	Payload    string    `bun:"payload,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// Body is the JSON a delivery of the event sends: the same bytes at every
// attempt, so a receiver can deduplicate by id.
func (ev *WebhookEvent) Body() []byte {
	b, _ := json.Marshal(struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt time.Time       `json:"created_at"`
		TeamID    int64           `json:"team_id"`
		ActorID   int64           `json:"actor_id"`
		Data      json.RawMessage `json:"data"`
	}{"evt_" + strconv.FormatInt(ev.ID, 10), ev.Type, ev.CreatedAt, ev.TeamID, ev.ActorID, json.RawMessage(ev.Payload)})
	return b
}

// WebhookDelivery is one event to send to one endpoint: a job of the
// delivery queue and, once done, a line of the delivery log.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	ID          int64     `bun:"id,pk,autoincrement"`
	TeamID      int64     `bun:"team_id,notnull"`
	EndpointID  int64     `bun:"endpoint_id,notnull"`
	EventID     int64     `bun:"event_id,notnull"`
	RecordKey   string    `bun:"record_key,notnull"`
	Status      string    `bun:"status,notnull"`
	Attempts    int       `bun:"attempts,notnull"`
	NextAt      time.Time `bun:"next_at,notnull"`
	GiveUpAt    time.Time `bun:"give_up_at,notnull"`
	LeaseOwner  string    `bun:"lease_owner,notnull"`
	LeaseUntil  time.Time `bun:"lease_until,nullzero"`
	LastCode    int       `bun:"last_code,notnull"`
	LastError   string    `bun:"last_error,notnull"`
	LastAt      time.Time `bun:"last_at,nullzero"`
	LastMS      int       `bun:"last_ms,notnull"`
	DeliveredAt time.Time `bun:"delivered_at,nullzero"`
	CreatedAt   time.Time `bun:"created_at,notnull"`

	EventType   string `bun:"event_type,scanonly"`
	EndpointURL string `bun:"endpoint_url,scanonly"`
}

// Subscribes reports whether the endpoint wants events of type t.
func (ep *WebhookEndpoint) Subscribes(t string) bool {
	return slices.Contains(ep.EventList(), t)
}

// EventList is the endpoint's event types.
func (ep *WebhookEndpoint) EventList() []string {
	if ep.Events == "" {
		return nil
	}
	return strings.Split(ep.Events, ",")
}

// assignChange is the event of giving a contact or deal a new owner.
func assignChange(team, actor int64, model any, id int64) change {
	if _, ok := model.(*Deal); ok {
		return change{team: team, actor: actor, kind: "deal", id: id, types: []string{EventDealUpdated}}
	}
	return change{team: team, actor: actor, kind: "contact", id: id, types: []string{EventContactUpdated}}
}

// dealDeletes are the deal.deleted events of the team's deals matching
// where (a delete's cascade), in id order.
func (s *Store) dealDeletes(ctx context.Context, tx bun.IDB, team, actor int64, where string, args ...any) ([]change, error) {
	var ids []int64
	if err := tx.NewSelect().Model((*Deal)(nil)).Column("id").Where("team_id = ?", team).Where(where, args...).
		Order("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("outbox: deals deleted with: %w", err)
	}
	out := make([]change, len(ids))
	for i, id := range ids {
		out[i] = change{team: team, actor: actor, kind: "deal", id: id, types: []string{EventDealDeleted}}
	}
	return out, nil
}
