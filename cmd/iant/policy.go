package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/policy/policytest"
)

// defaultPolicyDir is where the network policy lives in a checkout.
const defaultPolicyDir = "deploy/policies"

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check and test the network access policy (Cedar)",
		Long: `policy works on the network policy set offline: the Cedar policies in
network.cedar, the schema in network.cedarschema and the decision tables in
tests/*.yaml. No node is contacted.`,
	}
	cmd.AddCommand(newPolicyCheckCmd(), newPolicyTestCmd())
	return cmd
}

func newPolicyCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check [DIR|FILE]",
		Short: "Parse the policy set and validate it against its schema",
		Long: `check parses a policy set and validates every policy against the schema.
DIR (default deploy/policies) holds network.cedar and network.cedarschema.
FILE is a .cedar file; its schema is the .cedarschema file of the same name
beside it, or network.cedarschema in the same directory. It prints
"ok: N policies" or the first error with its file and position.`,
		Example: `  iant policy check
  iant policy check deploy/policies/network.cedar`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultPolicyDir
			if len(args) == 1 {
				path = args[0]
			}
			set, err := loadPolicy(path)
			if err != nil {
				return err
			}
			validated := "validated against the schema"
			if !set.Validated() {
				validated = "no schema found, not validated"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d policies (%s)\n", set.Len(), validated)
			return nil
		},
	}
}

// loadPolicy loads a policy directory or a single policy file.
func loadPolicy(path string) (*policy.Set, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return policy.Load(path)
	}
	schema := ""
	for _, cand := range []string{
		strings.TrimSuffix(path, filepath.Ext(path)) + ".cedarschema",
		filepath.Join(filepath.Dir(path), policy.SchemaFile),
	} {
		if _, err := os.Stat(cand); err == nil {
			schema = cand
			break
		}
	}
	return policy.LoadFiles(path, schema)
}

func newPolicyTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the policy decision tables",
		Long: `test loads the policy set in DIR (default deploy/policies) and runs every
case of DIR/tests/*.yaml against it: who asks, which action, which bulletin,
the expected decision and the policy expected to decide. It prints one line a
case and fails if any case fails. The Go tests of pkg/policy run the same
tables with the same code.`,
		Example: `  iant policy test
  iant policy test ./my-policies`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := defaultPolicyDir
			if len(args) == 1 {
				dir = args[0]
			}
			set, err := policy.Load(dir)
			if err != nil {
				return err
			}
			results, err := policytest.RunTests(policy.NewEngine(set), filepath.Join(dir, "tests"))
			if err != nil {
				return err
			}
			if failed := printPolicyResults(cmd.OutOrStdout(), results); failed > 0 {
				return fmt.Errorf("policy test: %d of %d cases failed", failed, len(results))
			}
			return nil
		},
	}
}

// printPolicyResults prints a table of results and a summary line and
// returns the number of failed cases.
func printPolicyResults(w io.Writer, results []policytest.TestResult) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tFILE\tCASE\tACTION\tWANT\tDECIDED BY")
	failed := 0
	for _, r := range results {
		res := "pass"
		if !r.Pass {
			res = "FAIL"
			failed++
		}
		got := strings.Join(r.Got.PolicyIDs, ",")
		if !r.Pass {
			got = r.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", res, r.File, r.Name(), r.Case.Action, r.Case.Expect, got)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed\n", len(results)-failed, failed)
	return failed
}
