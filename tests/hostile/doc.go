// Package hostile attacks a running network as a compromised member
// state would: its node's genuine SVID and keys, used through the
// backbone and the API to speak for others. Its tests (package
// hostile_test, one file per theme) assert what the victim stores and
// shows and what the audit report says.
package hostile
