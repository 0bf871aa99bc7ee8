package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/bigfather/bigfather/internal/alert"
	"github.com/bigfather/bigfather/internal/config"
)

const alertsUsage = "usage: bigfather alerts rules|list [--config FILE]"

// cmdAlerts prints the alert rules a config runs (the built-in ones unless alerts.builtin is false, then the
// configured ones): `alerts rules` as a Prometheus rules file for Alertmanager users, `alerts list` as a table.
// Without --config it uses the built-in defaults.
func cmdAlerts(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return usagef("%s", alertsUsage)
	}
	sub, rest := args[0], args[1:]
	if sub != "rules" && sub != "list" {
		return usagef("alerts: unknown subcommand %q (%s)", sub, alertsUsage)
	}
	fs := newFlags("alerts "+sub, stderr)
	cfgPath := fs.String("config", "", "config file (default: the built-in defaults)")
	if err := parse(fs, rest); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("alerts %s: unexpected argument %q (%s)", sub, fs.Arg(0), alertsUsage)
	}
	cfg := config.Default("./data") // only its alerts, monitor and http settings are read
	if *cfgPath != "" {
		var err error
		if cfg, err = loadConfig(*cfgPath, "", true); err != nil {
			return err
		}
	}
	rules, err := alert.Rules(cfg)
	if err != nil {
		return err
	}
	if sub == "rules" {
		data, err := alert.PrometheusRules(rules)
		if err != nil {
			return err
		}
		_, err = stdout.Write(data)
		return err
	}
	return listRules(stdout, rules)
}

// listRules prints one line per rule: name, severity, for, the condition in PromQL, receivers and runbook.
func listRules(w io.Writer, rules []alert.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tFOR\tCONDITION\tRECEIVERS\tRUNBOOK")
	for _, r := range rules {
		hold := "-"
		if r.For > 0 {
			hold = r.For.String()
		}
		receivers := "all"
		if len(r.Receivers) > 0 {
			receivers = strings.Join(r.Receivers, ",")
		}
		rb := r.RunbookURL
		if rb == "" {
			rb = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Severity, hold, r.Expr(), receivers, rb)
	}
	return tw.Flush()
}
