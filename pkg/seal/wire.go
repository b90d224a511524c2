package seal

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Limits of the wire formats. Decoders reject anything larger before
// allocating for it.
const (
	// MaxRecipients is the most recipient states one sealed bulletin names.
	MaxRecipients = 64
	// MaxCiphertext is the largest ciphertext (plaintext plus the 16-byte
	// AEAD tag) of one sealed bulletin: 1 MiB.
	MaxCiphertext = 1 << 20

	maxAlgName  = 32   // suite algorithm names
	maxID       = 128  // bulletin IDs
	maxState    = 16   // state codes
	maxSPIFFEID = 512  // SPIFFE IDs of signers and nodes
	maxKeyID    = 64   // key IDs
	maxEnc      = 4096 // one wrapped key (HPKE enc ‖ ct)
	maxSig      = 8192 // one signature, room for ML-DSA later
	maxPublic   = 4096 // one public key in a directory entry
	maxEntry    = 16 << 10
	maxCert     = 16 << 10
	maxChain    = 8
)

// checkString reports whether s is 1 to max bytes of printable ASCII
// without spaces, the alphabet of every string in IANT's wire formats
// (state codes, IDs, SPIFFE IDs, algorithm names), so no string can smuggle
// control characters into a log.
func checkString(field, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%w: %s must be 1 to %d bytes", ErrMalformed, field, max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return fmt.Errorf("%w: %s has a byte outside printable ASCII", ErrMalformed, field)
		}
	}
	return nil
}

// checkText reports whether s is 1 to max bytes of printable ASCII,
// spaces allowed: free text such as a forward's reason, which still
// cannot carry control characters into a log.
func checkText(field, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%w: %s must be 1 to %d bytes", ErrMalformed, field, max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return fmt.Errorf("%w: %s has a byte outside printable ASCII", ErrMalformed, field)
		}
	}
	return nil
}

// checkTime reports whether t round-trips through the wire's int64 Unix
// nanoseconds, where 0 stands for the zero time.
func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	if n == 0 || !time.Unix(0, n).Equal(t) {
		return fmt.Errorf("%w: %s out of range", ErrMalformed, field)
	}
	return nil
}

// wireTime converts a time as decoded: UTC, no monotonic reading.
func wireTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// unixNano encodes t; the zero time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// appendString appends a u16 length and s. Callers have checked the length.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendBlob16 appends a u16 length and p.
func appendBlob16(b, p []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
	return append(b, p...)
}

// appendBlob32 appends a u32 length and p.
func appendBlob32(b, p []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
	return append(b, p...)
}

// decoder reads big-endian fields from b. The first failure sticks in err
// and makes every later read return zero values, so callers check err once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

// take returns the next n bytes, not copied.
func (d *decoder) take(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail("%s truncated", field)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8(field string) uint8 {
	p := d.take(1, field)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u16(field string) uint16 {
	p := d.take(2, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (d *decoder) u32(field string) uint32 {
	p := d.take(4, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (d *decoder) u64(field string) uint64 {
	p := d.take(8, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// blob reads a length of lenSize bytes (2 or 4) and that many bytes,
// copied, refusing lengths above max before reading them.
func (d *decoder) blob(field string, lenSize, max int) []byte {
	var n int
	if lenSize == 2 {
		n = int(d.u16(field))
	} else {
		n = int(d.u32(field))
	}
	if d.err == nil && n > max {
		d.fail("%s longer than %d bytes", field, max)
	}
	p := d.take(n, field)
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}

// str reads a string with a u16 length of at most max bytes. Its alphabet
// is checked by the caller's validation.
func (d *decoder) str(field string, max int) string {
	return string(d.blob(field, 2, max))
}

// done fails if bytes are left over.
func (d *decoder) done() {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
}
