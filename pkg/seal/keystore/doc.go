// Package keystore keeps a member state node's sealing keys (package seal)
// in one file: the current [seal.NodeKeys] and the KEM keys of earlier
// generations, each with the times it was created and retired. It does
// the file I/O that package seal, which is pure, leaves out.
//
// Walk-through:
//
//	ks, err := keystore.Open("/var/lib/iant-keys/node.keys", "MX", keystore.Options{Retention: r})
//	s, err := seal.Seal(hdr, pt, recipients, ks.Current())
//	pt, err := seal.Open(copy, "MX", ks.Ring(), lookup, seal.Policy{}, now)
//	err = ks.RotateKEM(now)  // then publish ks.Current().Entry(...)
//	err = ks.RotateSign(now) // likewise
//	err = ks.RotateSignAnnounced(now, func(next *seal.NodeKeys) error {
//		return publish(next.Entry(...)) // kept only once announced
//	})
//	n, err := ks.Prune(now)  // drop KEM keys retired longer ago than r
//
// # Where the file lives
//
// The path is the caller's choice and may lie outside the node's data
// directory: the database can be rebuilt from the backbone, the keys
// cannot, so they belong where they are backed up separately and
// survive a loss of the data disk. The file is written atomically (a
// temporary file in the same directory, fsync, rename, fsync of the
// directory) with mode 0600; [Open] refuses a file that group or others
// may access ([ErrPermissions]) or that holds another state's keys
// ([ErrWrongState]). One process uses a key file at a time.
//
// # Retention
//
// Retired KEM keys are kept by time, not count: [Store.Prune] drops a key
// only once it was retired longer ago than [Options.Retention]. The
// contract for the caller: Retention must cover every copy still on the
// backbone that may have been sealed to a retired key, that is at least
// the inbox stream's maximum message age, plus how long senders may keep
// sealing to the old key after a rotation (their directory-entry cache
// lifetime and publishing delay), plus a margin for clock skew. A node
// rebuilding its database from the inbox must still open every copy the
// stream holds. Zero keeps retired keys for ever. A state node uses its
// inbox retention plus statenode.KeyRetentionMargin and prunes on every
// rotation and hourly.
//
// # File format
//
// Big-endian, version 1:
//
//	"IANTKSTR" u8(1)
//	str state
//	i64 created                          (of the current generation; Unix ns, 0 = unknown)
//	blob32 node keys                     (seal.NodeKeys.MarshalPrivate)
//	u16 n, n × (i64 created, i64 retired, blob16 KEM key)   (seal.KEMKey.MarshalPrivate)
//	[32] SHA-256 of all the bytes before it
//
// with the retired generations newest first (retirement times not
// increasing). Version 2, written once a rotation drops a signing key
// from the current keys' retired list (seal.MaxRetiredSignKeys), adds
// before the checksum
//
//	u16 n (1..65535), n × (blob16 Ed25519 public, i64 retired-at)
//
// the signing keys dropped, newest first, so that [Store.MarkCompromised]
// can still name any of them compromised. The checksum catches a truncated or damaged file, which
// could otherwise decode to other, valid keys. The file of earlier node versions (u32 length and
// seal.NodeKeys private bytes per generation, newest first) is still read:
// [Open] migrates it, recording its older generations as retired at the
// time of migration, so they are kept at least Retention from then.
//
// # Concurrency
//
// A [Store] is safe for concurrent use. Rotations and pruning are
// serialized and each has reached the disk before it returns; if writing
// fails, the store keeps its previous keys. While
// [Store.RotateSignAnnounced] announces, readers go on; changes wait. [Store.Current] and
// [Store.Ring] return snapshots that later rotations do not change.
package keystore
