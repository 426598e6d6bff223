// Package objstoretest is the conformance suite of objstore.Store: every
// implementation runs it from its tests, and passing it is what "implements
// the contract" means. Each case is a sentence about the contract.
package objstoretest

import (
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

// A test is one statement of the contract, checked on an empty store.
type test struct {
	name string
	run  func(t *testing.T, s objstore.Store)
}

// Run checks every statement of the Store contract. newStore must return an
// empty store for each call; the cases run in parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store) {
	var all []test
	for _, group := range [][]test{basicTests, rangeTests, conditionalTests, listTests, deleteTests, keyTests, concurrencyTests} {
		all = append(all, group...)
	}
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}
