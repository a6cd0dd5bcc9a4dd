package store_test

import (
	"sync"
	"testing"

	"sherpa/store"
)

// TestSearchTermsAreSafeForConcurrentUse: many requests make search terms at
// once; a shared accent-folding transformer once made them panic.
func TestSearchTermsAreSafeForConcurrentUse(t *testing.T) {
	want := store.ContactTerms("Jürgen Müller-Lüdenscheidt", "jürgen@müller.example", "Ölwerke Süd", "+49 30 1234567")
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs <- "panic"
				}
			}()
			for i := 0; i < 300; i++ {
				got := store.ContactTerms("Jürgen Müller-Lüdenscheidt", "jürgen@müller.example", "Ölwerke Süd", "+49 30 1234567")
				if len(got) != len(want) {
					errs <- "different terms"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("concurrent term making: %s", e)
	}
}
