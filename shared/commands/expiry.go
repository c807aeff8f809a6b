package commands

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/release"
)

// Due is the expiry sweep's storage port.
type Due interface {
	DueForExpiry(ctx context.Context, now time.Time, lookback time.Duration) ([]release.Due, error)
}

// Expiry queues an Expire command for every active release whose expiration has passed. The state
// machine (in the consumer, in order with the container's other actions) decides: an Update that
// extended the release meanwhile makes the command a no-op.
type Expiry struct {
	Store Due
	Queue Queue
	Now   func() time.Time
	Log   *slog.Logger
	// Lookback is how far back the sweep looks (it covers an outage of the schedule that long).
	Lookback time.Duration
}

// expiryNamespace makes the Expire command's public reference deterministic per release version:
// sweeps that find the same release queue the same command, which applies once.
var expiryNamespace = uuid.MustParse("7f0f4a52-3c0e-4a53-9f35-2f7c1a3e6b10")

// Handle runs one sweep (a scheduled event's payload is ignored).
func (e *Expiry) Handle(ctx context.Context) error {
	now := e.Now().UTC()
	due, err := e.Store.DueForExpiry(ctx, now, e.Lookback)
	if err != nil {
		return err
	}
	cmds := make([]release.Command, 0, len(due))
	for _, d := range due {
		cmds = append(cmds, release.Command{
			PublicReferenceID: uuid.NewSHA1(expiryNamespace, []byte(d.ReleaseID+"#"+strconv.Itoa(d.Version))).String(),
			CarrierID:         d.CarrierID, Action: release.ActExpire, AcceptedAt: now,
			Request: release.Request{PortLoCode: d.PortLoCode, EquipmentNumber: d.EquipmentNumber, BillOfLadingNumbers: d.BillOfLadingNumbers},
		})
	}
	if err := Enqueue(ctx, e.Queue, cmds...); err != nil {
		return err
	}
	if len(due) > 0 {
		e.Log.InfoContext(ctx, "expiry sweep queued releases", "count", len(due))
	}
	return nil
}
