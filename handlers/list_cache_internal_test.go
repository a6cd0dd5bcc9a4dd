package handlers

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestListCacheDropsOlderVersions: once a team's list version is seen to
// move (a get, a put or a request that only reads it), the team's pages of
// older versions are gone at once — an import that moves the version a
// thousand times keeps one version's pages, not a thousand — and a page of
// an older version is neither served nor stored after that. Other teams'
// pages stay.
func TestListCacheDropsOlderVersions(t *testing.T) {
	lc := newListCache(1 << 20)
	body := bytes.Repeat([]byte("x"), 1000)
	put := func(team, version int64, page string) {
		lc.put(listKey{team: team, version: version, page: page}, body)
	}
	has := func(team, version int64, page string) bool {
		_, ok, _ := lc.get(listKey{team: team, version: version, page: page})
		return ok
	}
	expect := func(what string, pages, teams, b int) {
		t.Helper()
		if p, tm, by := lc.stats(); p != pages || tm != teams || by != b {
			t.Fatalf("%s: %d pages of %d teams, %d bytes; want %d, %d, %d", what, p, tm, by, pages, teams, b)
		}
	}
	put(1, 5, "a")
	put(1, 5, "b")
	put(2, 9, "a")
	expect("three pages", 3, 2, 3000)
	if !has(1, 5, "a") || !has(2, 9, "a") || has(1, 5, "c") {
		t.Fatal("the pages put are not found")
	}
	// Team 1 moves on: a get at version 6 misses and ends version 5.
	if has(1, 6, "a") {
		t.Fatal("a page of version 5 served at version 6")
	}
	expect("after team 1's version 6 was seen", 1, 1, 1000)
	if !has(2, 9, "a") {
		t.Fatal("team 2's page went with team 1's")
	}
	// A request that read version 5 before the write: neither served nor
	// kept.
	put(1, 5, "a")
	if has(1, 5, "a") {
		t.Fatal("a page of an older version stored after a newer one was seen")
	}
	put(1, 6, "a")
	expect("version 6 stored", 2, 2, 2000)
	put(1, 5, "z")
	expect("an older put after version 6", 2, 2, 2000)
	// seen alone (a list request that does not use the cache, a flash)
	// also ends the older pages.
	lc.seen(1, 7)
	expect("after seen(1, 7)", 1, 1, 1000)
	// An import: 1,000 versions with a page each hold one page at the end.
	for v := int64(10); v < 1010; v++ {
		put(1, v, "a")
		put(1, v, "b")
	}
	expect("after 1,000 versions", 3, 2, 3000)
	if !has(1, 1009, "b") || has(1, 1008, "b") {
		t.Fatal("the last version's page missing or an older one served")
	}
}

// TestListCacheBound: the byte bound holds across teams, the TTL still
// ends a page, and a body beyond a quarter of the bound is not kept.
func TestListCacheBound(t *testing.T) {
	lc := newListCache(10_000)
	now := time.Unix(1_700_000_000, 0)
	lc.now = func() time.Time { return now }
	body := bytes.Repeat([]byte("x"), 1000)
	for i := range 30 {
		lc.put(listKey{team: int64(i % 3), version: 1, page: fmt.Sprint(i)}, body)
		if _, _, b := lc.stats(); b > 10_000 {
			t.Fatalf("after %d puts: %d bytes over the bound", i+1, b)
		}
	}
	if p, _, b := lc.stats(); p != 10 || b != 10_000 {
		t.Fatalf("%d pages, %d bytes; want 10, 10000", p, b)
	}
	lc.put(listKey{team: 9, version: 1, page: "big"}, bytes.Repeat([]byte("x"), 2501))
	if _, ok, _ := lc.get(listKey{team: 9, version: 1, page: "big"}); ok {
		t.Fatal("a body over a quarter of the bound kept")
	}
	lc.put(listKey{team: 8, version: 1, page: "old"}, body)
	now = now.Add(listCacheTTL)
	if _, ok, _ := lc.get(listKey{team: 8, version: 1, page: "old"}); ok {
		t.Fatal("a page older than the TTL served")
	}
}

// TestListCacheImportBound: a page drawn before import batches is served
// while a request found it current less than importStale ago, starts one
// background redraw from importRefresh on (listRedraws at most at once),
// and misses after importStale; a request that last found it current
// moves that time on; a page of an older import version never replaces a
// newer one.
func TestListCacheImportBound(t *testing.T) {
	lc := newListCache(1 << 20)
	now := time.Unix(1_700_000_000, 0)
	lc.now = func() time.Time { return now }
	key := func(page string, imports int64) listKey {
		return listKey{team: 1, version: 3, page: page, imports: imports, at: now}
	}
	get := func(page string, imports int64) (ok, redraw bool) {
		_, ok, redraw = lc.get(key(page, imports))
		return ok, redraw
	}
	lc.put(key("a", 5), []byte("a5"))
	now = now.Add(10 * time.Second)
	if ok, _ := get("a", 5); !ok { // found current now
		t.Fatal("a current page missed")
	}
	if ok, redraw := get("a", 6); !ok || redraw {
		t.Fatalf("after a batch, at once: served %v, redraw %v; want served, no redraw", ok, redraw)
	}
	now = now.Add(importRefresh)
	if ok, redraw := get("a", 7); !ok || !redraw {
		t.Fatalf("after batches, importRefresh on: served %v, redraw %v; want both", ok, redraw)
	}
	if ok, redraw := get("a", 7); !ok || redraw {
		t.Fatalf("a second redraw of the same page started (served %v, redraw %v)", ok, redraw)
	}
	// Other pages: at most listRedraws redraws at once.
	for _, p := range []string{"b", "c"} {
		lc.put(listKey{team: 1, version: 3, page: p, imports: 5, at: now.Add(-importRefresh)}, []byte(p))
	}
	if _, redraw := get("b", 7); !redraw {
		t.Fatal("page b: no redraw started")
	}
	if ok, redraw := get("c", 7); !ok || redraw {
		t.Fatalf("page c: served %v, redraw %v with %d redraws running; want served, none", ok, redraw, listRedraws)
	}
	lc.redrawn(key("a", 7))
	if _, redraw := get("c", 7); !redraw {
		t.Fatal("page c: no redraw once one ended")
	}
	// The redraw's page replaces the older one; an older put does not.
	lc.put(key("a", 7), []byte("a7"))
	lc.put(key("a", 6), []byte("a6"))
	if body, ok, _ := lc.get(key("a", 7)); !ok || string(body) != "a7" {
		t.Fatalf("after the redraw: %q, %v; want a7", body, ok)
	}
	// Past importStale from the last time it was found current: a miss.
	now = now.Add(importStale)
	if ok, _ := get("a", 8); ok {
		t.Fatal("a page served importStale after it was last found current, with batches since")
	}
}
