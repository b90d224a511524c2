package keystore

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// fileMagic starts a key file of format version 1.
const fileMagic = "IANTKSTR"

// Limits of the file format. Version 2 is version 1 followed by the
// signing keys dropped from the current keys' retired list; a file
// without any is written in version 1.
const (
	fileVersion    = 1
	fileVersion2   = 2
	maxDropped     = 1<<16 - 1
	maxState       = 16
	maxNodeKeys    = 64 << 10
	maxKEMKey      = 8 << 10
	maxGenerations = 1<<16 - 1
)

// retiredKEM is a retired generation: its KEM key and times.
type retiredKEM struct {
	key              *seal.KEMKey
	created, retired time.Time
}

// droppedSign is a signing key of the node that later rotations dropped
// from its keys' retired list (seal.MaxRetiredSignKeys), kept so that it
// can still be named compromised (Store.MarkCompromised).
type droppedSign struct {
	public    []byte // Ed25519 public key
	retiredAt time.Time
}

// contents is what a key file holds.
type contents struct {
	state   string
	current *seal.NodeKeys
	created time.Time     // of the current generation; zero if unknown
	retired []retiredKEM  // newest first
	dropped []droppedSign // newest first
}

// encode returns the file bytes of c.
func (c *contents) encode() ([]byte, error) {
	nk, err := c.current.MarshalPrivate()
	if err != nil {
		return nil, err
	}
	v := byte(fileVersion)
	if len(c.dropped) > 0 {
		v = fileVersion2
	}
	b := append([]byte(fileMagic), v)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.state)))
	b = append(b, c.state...)
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(c.created)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(nk)))
	b = append(b, nk...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.retired)))
	for _, r := range c.retired {
		kk, err := r.key.MarshalPrivate()
		if err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.created)))
		b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.retired)))
		b = binary.BigEndian.AppendUint16(b, uint16(len(kk)))
		b = append(b, kk...)
	}
	if v == fileVersion2 {
		b = binary.BigEndian.AppendUint16(b, uint16(len(c.dropped)))
		for _, d := range c.dropped {
			b = binary.BigEndian.AppendUint16(b, uint16(len(d.public)))
			b = append(b, d.public...)
			b = binary.BigEndian.AppendUint64(b, uint64(unixNano(d.retiredAt)))
		}
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// decode parses a key file of version 1 or 2. Errors wrap ErrCorrupt (or
// seal's sentinels for keys that do not parse).
func decode(b []byte) (*contents, error) {
	if len(b) < len(fileMagic) || string(b[:len(fileMagic)]) != fileMagic {
		return nil, fmt.Errorf("%w: not an IANT key file", ErrCorrupt)
	}
	if len(b) < len(fileMagic)+sha256.Size {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if want := sha256.Sum256(body); subtle.ConstantTimeCompare(want[:], sum) != 1 {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or altered)", ErrCorrupt)
	}
	r := reader{b: body[len(fileMagic):]}
	v := r.u8()
	if r.err == nil && v != fileVersion && v != fileVersion2 {
		return nil, fmt.Errorf("%w: key file version %d", ErrCorrupt, v)
	}
	c := &contents{state: string(r.blob(2, maxState)), created: wireTime(r.u64())}
	nk := r.blob(4, maxNodeKeys)
	n := int(r.u16())
	var kks [][]byte
	for i := 0; i < n && r.err == nil; i++ {
		g := retiredKEM{created: wireTime(r.u64()), retired: wireTime(r.u64())}
		kks = append(kks, r.blob(2, maxKEMKey))
		c.retired = append(c.retired, g)
	}
	if v == fileVersion2 {
		c.dropped = readDropped(&r)
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if c.current, err = seal.ParsePrivate(nk); err != nil {
		return nil, fmt.Errorf("%w: current keys: %w", ErrCorrupt, err)
	}
	for i, kk := range kks {
		if c.retired[i].key, err = seal.ParseKEMPrivate(kk); err != nil {
			return nil, fmt.Errorf("%w: generation %d: %w", ErrCorrupt, i+1, err)
		}
	}
	return c, c.check()
}

// readDropped reads the dropped signing keys of a version 2 file: u16 n
// (at least 1), n × (blob16 Ed25519 public, u64 retired-at).
func readDropped(r *reader) []droppedSign {
	n := int(r.u16())
	if r.err == nil && n == 0 {
		r.err = fmt.Errorf("%w: version 2 without dropped signing keys", ErrCorrupt)
	}
	var out []droppedSign
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, droppedSign{public: r.blob(2, ed25519.PublicKeySize), retiredAt: wireTime(r.u64())})
	}
	return out
}

// check validates decoded contents: one state, unique KEM keys, retired
// generations with retirement times, newest first; dropped signing keys
// of 32 bytes with retirement times, newest first, none repeated nor
// among the current keys.
func (c *contents) check() error {
	if err := c.checkDropped(); err != nil {
		return err
	}
	if c.current.State() != c.state {
		return fmt.Errorf("%w: file names state %q, its keys are %s's", ErrCorrupt, c.state, c.current.State())
	}
	seen := map[string]bool{c.current.Public().KEMKeyID: true}
	for i, g := range c.retired {
		switch {
		case seen[g.key.ID()]:
			return fmt.Errorf("%w: generation %d repeats a KEM key", ErrCorrupt, i+1)
		case g.retired.IsZero():
			return fmt.Errorf("%w: generation %d has no retirement time", ErrCorrupt, i+1)
		case i > 0 && g.retired.After(c.retired[i-1].retired):
			return fmt.Errorf("%w: generations not newest first", ErrCorrupt)
		}
		seen[g.key.ID()] = true
	}
	return nil
}

// checkDropped validates the dropped signing keys.
func (c *contents) checkDropped() error {
	seen := map[string]bool{c.current.Public().SignKeyID: true}
	for _, r := range c.current.RetiredSignKeys() {
		seen[r.KeyID] = true
	}
	for i, d := range c.dropped {
		id := seal.KeyID("Ed25519", d.public)
		switch {
		case len(d.public) != ed25519.PublicKeySize:
			return fmt.Errorf("%w: dropped signing key %d of %d bytes", ErrCorrupt, i+1, len(d.public))
		case seen[id]:
			return fmt.Errorf("%w: dropped signing key %d repeats a key", ErrCorrupt, i+1)
		case d.retiredAt.IsZero():
			return fmt.Errorf("%w: dropped signing key %d has no retirement time", ErrCorrupt, i+1)
		case i > 0 && !d.retiredAt.Before(c.dropped[i-1].retiredAt):
			return fmt.Errorf("%w: dropped signing keys not newest first", ErrCorrupt)
		}
		seen[id] = true
	}
	return nil
}

// decodeLegacy parses the key file of earlier node versions: u32 length
// and seal.NodeKeys private bytes per generation, newest first. The older
// generations are recorded as retired at migratedAt.
func decodeLegacy(b []byte, migratedAt time.Time) (*contents, error) {
	c := &contents{}
	for len(b) > 0 {
		if len(b) < 4 || uint64(len(b)-4) < uint64(binary.BigEndian.Uint32(b)) {
			return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(b)
		k, err := seal.ParsePrivate(b[4 : 4+n])
		if err != nil {
			return nil, fmt.Errorf("%w: generation %d: %w", ErrCorrupt, len(c.retired)+1, err)
		}
		if c.current == nil {
			c.current, c.state = k, k.State()
		} else if k.State() != c.state {
			return nil, fmt.Errorf("%w: generations of %s and %s", ErrCorrupt, c.state, k.State())
		} else {
			c.retired = append(c.retired, retiredKEM{key: k.KEMKey(), retired: migratedAt})
		}
		b = b[4+n:]
	}
	if c.current == nil {
		return nil, fmt.Errorf("%w: empty", ErrCorrupt)
	}
	return c, c.check()
}

// reader reads big-endian fields; the first failure sticks in err.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%w: truncated", ErrCorrupt)
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() uint8 {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// blob reads a length of lenSize bytes (2 or 4), at most max, and that
// many bytes.
func (r *reader) blob(lenSize, max int) []byte {
	var n int
	if lenSize == 2 {
		n = int(r.u16())
	} else if p := r.take(4); p != nil {
		n = int(binary.BigEndian.Uint32(p))
	}
	if r.err == nil && n > max {
		r.err = fmt.Errorf("%w: field of %d bytes, at most %d", ErrCorrupt, n, max)
	}
	return r.take(n)
}

func wireTime(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// isLegacy reports whether b is in the format of earlier node versions:
// a u32 length, then seal's private node keys.
func isLegacy(b []byte) bool {
	return len(b) >= 12 && string(b[4:12]) == "IANTNKEY"
}
