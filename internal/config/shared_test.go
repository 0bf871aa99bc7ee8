package config

import "testing"

// TestTableShared: table.shared defaults to false, parses true, and anything but a boolean is an error naming
// the key; an unknown table key lists shared among the expected ones.
func TestTableShared(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want bool
	}{
		{minimal, false},
		{minimal + "      shared: true\n", true},
		{minimal + "      shared: false\n", false},
	} {
		c, err := Parse("ok.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := c.Pipelines[0].Table.Shared; got != tc.want {
			t.Errorf("%q: table.shared = %v, want %v", tc.yaml, got, tc.want)
		}
	}
	runErrorCases(t, []errorCase{
		{"shared not a boolean", minimal + "      shared: yes please\n",
			`bad.yaml:8: pipelines[0].table.shared: expected true or false, got "yes please"`},
		{"unknown table key", minimal + "      share: true\n",
			`bad.yaml:8: pipelines[0].table.share: unknown key (expected one of: name, partition_by, columns, shared)`},
	})
}
