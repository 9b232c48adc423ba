package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/heraldreports/herald/internal/auth"
	"github.com/heraldreports/herald/internal/herald"
)

// token prints a bearer token signed with the data dir's local key.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	role := fs.String("role", "", "viewer, editor or admin (required)")
	subject := fs.String("subject", "", "subject (default: local-<role>)")
	name := fs.String("name", "", "display name")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime, from 1m to 8760h")
	dataDir := fs.String("data-dir", orDefault(getenv("HERALD_DATA_DIR"), "./data"), "data directory (HERALD_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *tenant == "" || *role == "" || fs.NArg() > 0 {
		_, _ = fmt.Fprintln(stderr, "usage: herald token --tenant T --role viewer|editor|admin [--subject S] [--name N] [--ttl 24h] [--data-dir DIR]")
		return errUsage
	}
	r, err := herald.ParseRole(*role)
	if err != nil {
		return err
	}
	if *subject == "" {
		*subject = "local-" + *role
	}
	key, err := auth.LoadOrCreateLocalKey(*dataDir)
	if err != nil {
		return fmt.Errorf("loading the local signing key: %w", err)
	}
	tok, err := key.Issue(auth.IssueRequest{
		TenantID: *tenant, Subject: *subject, Name: *name, Roles: []herald.Role{r}, TTL: *ttl,
		Issuer: orDefault(getenv("HERALD_TOKEN_ISSUER"), "herald-local"), Audience: orDefault(getenv("HERALD_TOKEN_AUDIENCE"), "herald"),
	})
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintln(stdout, tok)
	return nil
}
