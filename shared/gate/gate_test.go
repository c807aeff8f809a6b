package gate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/release"
)

var t0 = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

const (
	terminal = "NXT200000003"
	trucker  = "NXT200000008"
)

// ready is a container whose lights are all green and whose right a transport operator holds and
// assigned, with PIN 004711.
func ready() release.ContainerState {
	from, to := t0.Add(-time.Hour), t0.Add(24*time.Hour)
	green := release.Lights{Customs: release.LightState{Value: "OK"}, Police: release.LightState{Value: "OK"},
		Discharge: release.LightState{Value: "YES"}, TerminalRelease: release.LightState{Value: "OK"}}
	r := release.Release{ReleaseID: "rel-1", TerminalOperatorID: terminal, Light: release.LightOK, Lights: green,
		Data:  release.Request{BillOfLadingNumbers: []string{"BL1"}, ReleaseDateTimeUtc: &from, ExpirationDateTimeUtc: &to},
		Right: release.Right{Holder: trucker, Status: release.StatusAccepted}}
	r.Right.Assignment = &release.Assignment{Type: "Truck", LicensePlate: "1-ABC-123", Seq: 1, PinHash: release.PinHash("rel-1", 1, "004711")}
	return release.ContainerState{Visit: release.Visit{Lights: green, TerminalCode: "01700"}, Releases: []release.Release{r}, Guards: map[string]release.PinGuard{}}
}

// TestJudge: allowed only when ready and the PIN or identifiers match (both when both are given);
// every reason named; failures counted on the guard.
func TestJudge(t *testing.T) {
	for name, tc := range map[string]struct {
		change  func(*release.ContainerState)
		req     Request
		reasons string
		failed  bool
	}{
		"pin":                 {nil, Request{PickupPin: "004711"}, "", false},
		"plate as written":    {nil, Request{LicensePlate: "1 abc 123"}, "", false},
		"pin and plate":       {nil, Request{PickupPin: "004711", LicensePlate: "1-ABC-123"}, "", false},
		"wrong pin":           {nil, Request{PickupPin: "004712"}, "Pin: mismatch", true},
		"right pin bad plate": {nil, Request{PickupPin: "004711", LicensePlate: "9-ZZZ-999"}, "Assignment: licensePlate does not match", true},
		"nothing shown":       {nil, Request{}, "Identification: give the pickupPin or the assignment's identifiers", false},
		"customs hold": {func(s *release.ContainerState) { s.Releases[0].Lights.Customs.Value = "HOLD" },
			Request{PickupPin: "004711"}, "Customs: HOLD", false},
		"blocked and not discharged": {func(s *release.ContainerState) {
			s.Releases[0].Light, s.Releases[0].Lights.Discharge.Value = release.LightBlocked, "NO"
		}, Request{PickupPin: "004711"}, "CommercialRelease: BLOCKED|Discharge: NO", false},
		"not assigned": {func(s *release.ContainerState) { s.Releases[0].Right.Assignment = nil }, Request{PickupPin: "004711"}, "Right: not assigned", false},
		"locked": {func(s *release.ContainerState) { s.Guards["rel-1#1"] = release.PinGuard{Locked: true} },
			Request{PickupPin: "004711"}, "Pin: locked after repeated failures; the transport operator must assign again", false},
		"locked, plate only": {func(s *release.ContainerState) { s.Guards["rel-1#1"] = release.PinGuard{Locked: true} },
			Request{LicensePlate: "1-ABC-123"}, "Pin: locked after repeated failures; the transport operator must assign again", false},
		"another terminal's release beside": {func(s *release.ContainerState) {
			o := s.Releases[0]
			o.ReleaseID, o.TerminalOperatorID, o.Data.BillOfLadingNumbers = "rel-2", "NXT200000004", []string{"BL2"}
			s.Releases = append(s.Releases, o)
		}, Request{PickupPin: "004711"}, "", false},
		"outside the window": {func(s *release.ContainerState) {
			w := t0.Add(time.Hour)
			s.Releases[0].Right.Assignment.WindowFrom = &w
		}, Request{PickupPin: "004711"}, "Assignment: outside the pick-up window", false},
		"no release": {func(s *release.ContainerState) { s.Releases = nil }, Request{PickupPin: "004711"}, "Release: no active release", false},
		"other B/L":  {nil, Request{PickupPin: "004711", BillOfLadingNumbers: []string{"BL9"}}, "Release: no active release with these billOfLadingNumbers", false},
	} {
		st := ready()
		if tc.change != nil {
			tc.change(&st)
		}
		v, err := Judge(st, tc.req, terminal, []string{"01700"}, t0)
		if err != nil || v.Answer.Allowed != (tc.reasons == "") || strings.Join(v.Answer.Reasons, "|") != tc.reasons || (v.Guard != nil) != tc.failed {
			t.Errorf("%s: %+v guard=%v %v", name, v.Answer, v.Guard, err)
		}
	}
	if _, err := Judge(ready(), Request{}, "NXT200000004", nil, t0); !errors.Is(err, ErrOtherTerminal) {
		t.Errorf("another terminal's release: %v", err)
	}
	st := ready()
	st.Releases = nil
	if _, err := Judge(st, Request{}, "NXT200000004", []string{"0100"}, t0); !errors.Is(err, ErrOtherTerminal) {
		t.Errorf("another terminal's visit: %v", err)
	}
}

// TestPinLock: five failures within an hour lock; older failures fall out of the window.
func TestPinLock(t *testing.T) {
	st := ready()
	now := t0
	for i := 1; i <= MaxPinFailures; i++ {
		v, _ := Judge(st, Request{PickupPin: "000000"}, terminal, nil, now)
		if v.Guard == nil || v.Guard.Next.Locked != (i == MaxPinFailures) || v.Guard.Next.Version != i {
			t.Fatalf("failure %d: %+v", i, v.Guard)
		}
		st.Guards[v.Guard.Key] = v.Guard.Next
		now = now.Add(time.Minute)
	}
	if v, _ := Judge(st, Request{PickupPin: "004711"}, terminal, nil, now); v.Answer.Allowed || v.Guard != nil {
		t.Fatalf("locked PIN allowed: %+v", v)
	}
	// Four failures an hour apart never lock.
	st = ready()
	now = t0
	for i := 0; i < 10; i++ {
		v, _ := Judge(st, Request{PickupPin: "000000"}, terminal, nil, now)
		if v.Guard.Next.Locked {
			t.Fatalf("locked by failures spread over %d hours", i)
		}
		st.Guards[v.Guard.Key] = v.Guard.Next
		now = now.Add(PinWindow / 4)
	}
}

// TestDecode: a PIN of the wrong shape and identifiers beyond their rule are 400 naming the field.
func TestDecode(t *testing.T) {
	for body, field := range map[string]string{
		`{"pickupPin":"12345"}`:                              "pickupPin",
		`{"pickupPin":"12a456"}`:                             "pickupPin",
		`{"licensePlate":"` + strings.Repeat("A", 36) + `"}`: "licensePlate",
		`{"driverId":"\u0000x"}`:                             "driverId",
	} {
		_, err := Decode([]byte(body))
		if err == nil || !strings.Contains(fmt.Sprint(err), field) {
			t.Errorf("%s: %v", body, err)
		}
	}
	if _, err := Decode([]byte(`{"pin":"123456"}`)); err == nil {
		t.Error("unknown field accepted")
	}
	if r, err := Decode([]byte(`{"pickupPin":"012345","licensePlate":" 1-ABC-123 "}`)); err != nil || r.LicensePlate != "1-ABC-123" {
		t.Errorf("valid: %+v %v", r, err)
	}
}
