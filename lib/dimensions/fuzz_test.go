package dimensions

import (
	"strings"
	"testing"

	"github.com/skybutler/skybutler/schemas"
)

// FuzzLoad checks that Load never panics (its recover would report an
// "internal error") and that every universe it accepts survives a
// Marshal/Load round trip unchanged. Seeds: testdata/fuzz/FuzzLoad plus the
// shipped universe.
func FuzzLoad(f *testing.F) {
	if data, err := schemas.FS.ReadFile("dimensions.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(small))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := Load(data)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Load panicked: %v", err)
			}
			return
		}
		out, err := u.Marshal()
		if err != nil {
			t.Fatalf("marshal an accepted universe: %v", err)
		}
		u2, err := Load(out)
		if err != nil {
			t.Fatalf("reload marshalled universe: %v\n%s", err, out)
		}
		if !u.Equal(u2) {
			t.Fatalf("round trip changed the universe:\n%s", out)
		}
		for _, e := range u.Elements() {
			if _, err := u.Expand([]string{e.Name}); err != nil {
				t.Fatalf("expand %s: %v", e.Name, err)
			}
		}
	})
}
