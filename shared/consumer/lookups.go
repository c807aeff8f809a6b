package consumer

import (
	"context"
	"sync"
	"time"

	"github.com/portcommunity/cpu/shared/release"
)

// CachedLookups keeps the registry look-ups of a warm consumer (who operates a terminal, which
// entity a party reference names) for a short time: every right action resolves two or three
// parties, and the same few parties recur. Only answers naming exactly one entity are kept, so a
// party registered a moment ago is found at once; a change of identifiers shows within ttl.
func CachedLookups(r Releases, ttl time.Duration, now func() time.Time) Releases {
	return &cachedLookups{Releases: r, ttl: ttl, now: now, parties: map[release.PartyRef]cached{}, terminals: map[string]cached{}}
}

type cached struct {
	ids     []string
	expires time.Time
}

type cachedLookups struct {
	Releases
	ttl       time.Duration
	now       func() time.Time
	mu        sync.Mutex
	parties   map[release.PartyRef]cached
	terminals map[string]cached
}

// maxCached bounds the memory of the cache: past it, the cache starts again empty.
const maxCached = 10000

func (c *cachedLookups) ResolveParty(ctx context.Context, ref release.PartyRef) ([]string, error) {
	if ids, ok := c.get(c.parties, ref); ok {
		return ids, nil
	}
	ids, err := c.Releases.ResolveParty(ctx, ref)
	if err == nil && len(ids) == 1 {
		c.put(func() { c.parties[ref] = cached{ids: ids, expires: c.now().Add(c.ttl)} })
	}
	return ids, err
}

func (c *cachedLookups) TerminalOperator(ctx context.Context, code string) (string, error) {
	c.mu.Lock()
	hit, ok := c.terminals[code]
	c.mu.Unlock()
	if ok && c.now().Before(hit.expires) {
		return hit.ids[0], nil
	}
	id, err := c.Releases.TerminalOperator(ctx, code)
	if err == nil && id != "" {
		c.put(func() { c.terminals[code] = cached{ids: []string{id}, expires: c.now().Add(c.ttl)} })
	}
	return id, err
}

func (c *cachedLookups) get(m map[release.PartyRef]cached, ref release.PartyRef) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hit, ok := m[ref]
	if !ok || !c.now().Before(hit.expires) {
		return nil, false
	}
	return hit.ids, true
}

func (c *cachedLookups) put(set func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.parties)+len(c.terminals) >= maxCached {
		c.parties, c.terminals = map[release.PartyRef]cached{}, map[string]cached{}
	}
	set()
}
