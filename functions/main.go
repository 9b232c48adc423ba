// Command herald is Herald's single binary: the standalone server, the Azure
// Functions custom handler and the command-line tools.
//
//	herald serve                  start the server (standalone, or custom handler when FUNCTIONS_CUSTOMHANDLER_PORT is set)
//	herald token --tenant T --role R [--subject S] [--ttl D]
//	                              print a bearer token signed with the data dir's local key
//	herald cron "0 9 * * MON-FRI" --tz Europe/Berlin -n 5 [--from T]
//	                              print the next fire times (UTC first, then local)
//	herald version                print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // IANA zones on any host, including minimal containers
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "token":
		err = token(args, getenv, stdout, stderr)
	case "cron":
		err = cronCmd(args, stdout, stderr, time.Now())
	case "version", "--version":
		_, _ = fmt.Fprintln(stdout, "herald", version)
	case "help", "-h", "--help":
		_, _ = fmt.Fprint(stdout, usage)
	default:
		_, _ = fmt.Fprintf(stderr, "herald: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		_, _ = fmt.Fprintln(stderr, "herald:", err)
		return 1
	}
}

const usage = `Herald runs SQL reports on a schedule and delivers them.

Usage:
  herald serve [--addr HOST:PORT] [--data-dir DIR]
      Start Herald. Standalone by default; as an Azure Functions custom handler
      when FUNCTIONS_CUSTOMHANDLER_PORT is set.
  herald token --tenant T --role viewer|editor|admin [--subject S] [--name N] [--ttl 24h] [--data-dir DIR]
      Print a bearer token signed with the local key in the data dir.
  herald version

Environment (flags win over variables): see README.md for the full list.
  HERALD_ADDR       listen address (default 127.0.0.1:8080)
  HERALD_DATA_DIR   data directory (default ./data)
  HERALD_LOG_LEVEL  debug, info, warn or error (default info)
`
