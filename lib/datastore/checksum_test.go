package datastore

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestChecksum(t *testing.T) {
	const emptySum = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	const abcSum = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	for _, tc := range []struct {
		name, data, want string
	}{
		{"the checksum of nothing is the SHA-256 of nothing", "", emptySum},
		{"the checksum of abc is its SHA-256", "abc", abcSum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Checksum([]byte(tc.data)); got != tc.want {
				t.Errorf("Checksum = %s, want %s", got, tc.want)
			}
			got, n, err := ChecksumReader(strings.NewReader(tc.data))
			if err != nil || got != tc.want || n != int64(len(tc.data)) {
				t.Errorf("ChecksumReader = %s, %d, %v", got, n, err)
			}
			if err := VerifyChecksum([]byte(tc.data), tc.want); err != nil {
				t.Errorf("VerifyChecksum: %v", err)
			}
			if err := VerifyChecksum([]byte(tc.data), strings.ToUpper(tc.want[7:])); err == nil {
				t.Errorf("VerifyChecksum accepted a checksum without algorithm")
			}
			if err := VerifyChecksum([]byte(tc.data), "sha256:"+strings.ToUpper(tc.want[7:])); err != nil {
				t.Errorf("VerifyChecksum rejected upper-case hex: %v", err)
			}
		})
	}
}

func TestVerifyChecksumErrors(t *testing.T) {
	data := []byte("abc")
	for _, tc := range []struct {
		name, want, wantErr string
		mismatch            bool
	}{
		{"different data are a mismatch", Checksum([]byte("abd")), "checksum mismatch", true},
		{"another algorithm is refused", "md5:900150983cd24fb0d6963f7d28e17f72", "not of the form sha256:<hex>", false},
		{"a checksum without algorithm is refused", "ba7816bf", "not of the form", false},
		{"a short digest is refused", "sha256:ba7816bf", "want 64 hex digits", false},
		{"a non-hex digest is refused", "sha256:" + strings.Repeat("zz", 32), "invalid byte", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyChecksum(data, tc.want)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("VerifyChecksum = %v, want error containing %q", err, tc.wantErr)
			}
			if errors.Is(err, ErrChecksumMismatch) != tc.mismatch {
				t.Errorf("errors.Is(err, ErrChecksumMismatch) = %v", !tc.mismatch)
			}
		})
	}
	t.Run("a read error is reported", func(t *testing.T) {
		_, _, err := ChecksumReader(iotest.ErrReader(errors.New("boom")))
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("ChecksumReader = %v", err)
		}
	})
}
