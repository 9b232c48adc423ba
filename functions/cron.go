package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/heraldreports/herald/internal/herald"
	"github.com/heraldreports/herald/internal/scheduler"
)

// cronCmd prints the next fire times of a cron expression in a zone: one
// line per fire time, the UTC instant first, then the local time.
//
//	herald cron "0 9 * * MON-FRI" --tz Europe/Berlin -n 5 [--from 2026-03-28T00:00:00Z]
func cronCmd(args []string, stdout, stderr io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("cron", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tz := fs.String("tz", "UTC", "IANA time zone")
	n := fs.Int("n", 5, "how many fire times (1-100)")
	from := fs.String("from", "", "list fire times strictly after this RFC 3339 instant (default now)")
	// The expression may come before or after the flags.
	var exprs []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		exprs = append(exprs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(exprs) != 1 {
		_, _ = fmt.Fprintln(stderr, `usage: herald cron "<expression>" [--tz Europe/Berlin] [-n 5] [--from 2026-01-31T00:00:00Z]`)
		return errUsage
	}
	after := now
	if *from != "" {
		t, err := herald.ParseInstant(*from)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		after = t.Time
	}
	p, err := scheduler.PreviewCron(exprs[0], *tz, after, *n)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(stdout, "# %s\n", p.Description)
	for _, t := range p.Times {
		note := ""
		switch {
		case t.DSTShifted:
			note = "  (DST: " + t.Nominal + " does not exist)"
		case t.Repeated:
			note = "  (DST: repeated hour)"
		}
		_, _ = fmt.Fprintf(stdout, "%s  %s %s%s\n", t.UTC.UTC().Format(time.RFC3339), t.Local, t.Zone, note)
	}
	return nil
}
