package datasource

import (
	"context"
	"crypto/tls"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Reason classifies why a query did not produce its full result, for the
// generation step to record.
type Reason string

// Reasons.
const (
	ReasonTimeout    Reason = "timeout"    // the statement timeout fired
	ReasonQuery      Reason = "query"      // the database rejected the query (syntax, unknown column, bad value, ...)
	ReasonPermission Reason = "permission" // permission denied, or a write refused by the read-only session
	ReasonRowCap     Reason = "rowcap"     // the row cap cut the result (Rows.Truncated); never an error by itself
	ReasonConnection Reason = "connection" // the database could not be reached or refused the login
	ReasonCanceled   Reason = "canceled"   // the caller's context was canceled
	ReasonInternal   Reason = "internal"   // anything else
)

// Classify returns the Reason of an error returned by a Runner or Rows, ""
// for nil. Errors that did not come from this package are classified by
// their herald code.
func Classify(err error) Reason {
	if err == nil {
		return ""
	}
	var f *failure
	if errors.As(err, &f) {
		return f.reason
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	case errors.Is(err, context.Canceled):
		return ReasonCanceled
	}
	switch herald.CodeOf(err) {
	case herald.CodeInvalid:
		return ReasonQuery
	case herald.CodeForbidden:
		return ReasonPermission
	case herald.CodeUnavailable:
		return ReasonConnection
	}
	return ReasonInternal
}

// failure is the Cause of every *herald.Error this package returns. Its text
// is the driver's message with every secret of the data source's DSN
// removed; the driver's error itself is not kept, because drivers may carry
// the connection string in their error values. It unwraps to
// context.DeadlineExceeded or context.Canceled when one of those caused it.
type failure struct {
	reason   Reason
	text     string
	sentinel error
}

func (f *failure) Error() string {
	if f.text == "" {
		return "reason " + string(f.reason)
	}
	return f.text
}
func (f *failure) Unwrap() error { return f.sentinel }

// classified is a dialect's verdict on a driver error.
type classified struct {
	reason Reason
	code   herald.Code
	msg    string // safe message; "" lets the caller choose one
}

// stage says what the runner was doing when an error happened.
type stage int

const (
	stageConnect stage = iota // opening the pool, connecting, starting the read-only session
	stageQuery                // running the query or reading its rows
)

// errorMapper turns driver errors of one data source into *herald.Error.
type errorMapper struct {
	dialect dialect
	secrets []string
	timeout time.Duration
}

// mapErr translates err. parent is the caller's context and qctx the
// query's (with the statement timeout).
func (m *errorMapper) mapErr(parent, qctx context.Context, st stage, err error) error {
	if err == nil {
		return nil
	}
	var he *herald.Error
	if errors.As(err, &he) {
		return err
	}
	text := scrub(err.Error(), m.secrets)
	switch {
	case parent.Err() != nil:
		return m.wrap(classified{ReasonCanceled, herald.CodeUnavailable, "query canceled"}, text, context.Canceled)
	case errors.Is(qctx.Err(), context.DeadlineExceeded):
		return m.timedOut(st, text)
	}
	c := m.dialect.classify(err)
	if c.reason == "" {
		c = classifyGeneric(err)
	}
	if c.reason == ReasonTimeout {
		return m.timedOut(st, text)
	}
	if c.msg == "" {
		c.msg = defaultMessage(c.reason, st)
	} else {
		c.msg = scrub(c.msg, m.secrets)
	}
	if c.reason == ReasonConnection && !strings.HasPrefix(c.msg, "could not connect") {
		c.msg = "could not connect to the data source: " + c.msg
	}
	return m.wrap(c, text, nil)
}

func (m *errorMapper) timedOut(st stage, text string) error {
	msg := "query timed out after " + m.timeout.String()
	if st == stageConnect {
		msg = "could not connect to the data source: timed out after " + m.timeout.String()
	}
	return m.wrap(classified{ReasonTimeout, herald.CodeUnavailable, msg}, text, context.DeadlineExceeded)
}

func (m *errorMapper) wrap(c classified, text string, sentinel error) error {
	if strings.Contains(c.msg, text) {
		text = "" // the message already says it all
	}
	return &herald.Error{Code: c.code, Message: c.msg, Cause: &failure{reason: c.reason, text: text, sentinel: sentinel}}
}

func defaultMessage(r Reason, st stage) string {
	switch r {
	case ReasonConnection:
		return "could not connect to the data source"
	case ReasonPermission:
		return "permission denied"
	case ReasonQuery:
		return "the query failed"
	}
	if st == stageConnect {
		return "could not start a read-only session on the data source"
	}
	return "the query failed for an internal reason"
}

// classifyGeneric classifies network and driver-neutral errors.
func classifyGeneric(err error) classified {
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, errInvalidDSN), errors.Is(err, errDSNLocalFiles):
		return classified{ReasonConnection, herald.CodeInvalid, err.Error()}
	case errors.As(err, &dnsErr):
		return classified{ReasonConnection, herald.CodeUnavailable, "host not found"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return classified{ReasonConnection, herald.CodeUnavailable, "connection refused"}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return classified{ReasonConnection, herald.CodeUnavailable, "host unreachable"}
	case errors.As(err, &certErr), errors.As(err, &recErr):
		return classified{ReasonConnection, herald.CodeUnavailable, "TLS handshake failed"}
	case errors.As(err, &netErr) && netErr.Timeout():
		return classified{ReasonConnection, herald.CodeUnavailable, "network timeout"}
	case errors.As(err, &opErr), errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return classified{ReasonConnection, herald.CodeUnavailable, "connection lost"}
	}
	return classified{ReasonInternal, herald.CodeInternal, ""}
}

var (
	// errInvalidDSN reports a DSN that does not parse. It carries no
	// detail: parse errors may quote the connection string.
	errInvalidDSN = errors.New("the connection string is not valid")
	// errDSNLocalFiles reports a DSN naming files on this server.
	errDSNLocalFiles = errors.New("the connection string must not use passfile, service or servicefile")
)

// secretsOf returns the strings of a DSN that must never be shown: the DSN
// itself and any password it carries (URL user info, password=... keywords,
// MySQL user:password@ prefixes), raw and percent-decoded.
func secretsOf(dsn string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 3 {
			out = append(out, s)
		}
	}
	add(dsn)
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			if c := strings.Index(userinfo, ":"); c >= 0 {
				add(userinfo[c+1:])
				if dec, err := url.PathUnescape(userinfo[c+1:]); err == nil {
					add(dec)
				}
			}
		}
	} else if at := strings.LastIndex(dsn, "@"); at >= 0 {
		userinfo := dsn[:at]
		if c := strings.Index(userinfo, ":"); c >= 0 {
			add(userinfo[c+1:])
		}
	}
	for _, m := range passwordKeyword.FindAllStringSubmatch(dsn, -1) {
		for _, g := range m[1:] {
			add(g)
			add(strings.ReplaceAll(g, `\'`, `'`))
		}
	}
	return out
}

var passwordKeyword = regexp.MustCompile(`(?i)\bpassword\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^\s&;]+))`)

// scrub replaces every secret in s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
