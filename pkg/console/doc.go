// Package console is IANT's web console: a small web server on loopback
// that a person runs beside their browser (iant console), speaking gRPC to
// the person's node with the person's own SVID, the way kubectl proxy
// works. The console never holds more rights than its person: every
// decision stays at the node, which sees the person's SVID.
//
//	conn, me, _ := client.Dial(ctx, c)
//	s, _ := console.Start(ctx, conn, console.Config{Person: me})
//	fmt.Println(s.LoginURL()) // http://127.x.y.z:PORT/login#token=...
//	defer s.Close()
//
// # Security
//
// The server listens on a loopback address only, by default a random one
// of 127.0.0.0/8: a browser keeps cached pages and service workers by
// origin, so at a predictable origin (127.0.0.1:PORT) another local user
// could have left one that reads the login token. [Server.LoginURL] mints a
// one-time token and puts it in the URL's fragment (/login#token=T),
// which a browser never sends: the login page's script posts it to
// /api/login, which spends it for a session: a random cookie
// (iant_console_PORT: HttpOnly, SameSite=Strict, Path=/) and a random
// session key in the answer, which the page keeps in localStorage. A
// browser sends a host's cookies to every port of it, so the
// cookie alone opens only the pages (which hold no secret and nothing of
// any bulletin); every /api/ route also needs the key (header
// X-IANT-Session-Key, or ?key= for the event streams), which only pages
// of the console's own origin can read. The Host header must be the
// address the server listens on, exactly (against DNS rebinding), and a
// state-changing request (POST) must carry an Origin of that address
// (403 otherwise). A session ends after Config.SessionTTL, at logout, or
// at Close; its event streams end with it. Every response carries a
// strict Content-Security-Policy (scripts and styles from the console
// itself, no inline script, no third-party origin), nosniff, no-referrer
// and no-store.
//
// Bulletin content is text of another state and hostile: the pages are
// static (embedded with go:embed) and their scripts put every field into
// the page with textContent, never as markup.
//
// # Routes
//
//	GET  /login#token=T        the login page (its script spends T)
//	POST /api/login            {"token"}: spend it, set the cookie, answer the key
//	POST /api/logout           end the session
//	GET  /, /bulletin, /post, /secretariat   the pages
//	GET  /static/...           scripts, styles (embedded)
//	GET  /api/me               who the console acts for, the member states
//	POST /api/rpc/{Method}     one node call; the body is the request
//	                           message as protojson, the answer the
//	                           response message or an error object
//	GET  /api/events?filter=   server-sent events from Subscribe
//	GET  /api/escalations      server-sent events from WatchEscalations
//	POST /api/verify           verify the audit log in this server
//
// Errors are JSON objects {"code", "message", "field", "rule"}: code is
// the node's gRPC status code name, or for the console's own refusals
// Unauthenticated (no session, key, token), PermissionDenied (host, origin),
// NotFound (path, method) or InvalidArgument (body, filter); field names
// the offending request field, rule the policy rule that refused.
//
// Nothing of a session is stored on disk.
//
// # Concurrency
//
// A Server is safe for concurrent use; Close stops it and waits for every
// request and event stream to end.
package console
