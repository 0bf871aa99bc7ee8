package config

import "testing"

func TestMemoryLimit(t *testing.T) {
	two := func(c *Config) []*Pipeline { return []*Pipeline{&c.Pipelines[0], &c.Pipelines[0]} }
	one := func(c *Config) []*Pipeline { return []*Pipeline{&c.Pipelines[0]} }
	for _, tc := range []struct {
		name  string
		yaml  string
		pipes func(*Config) []*Pipeline
		want  int64
	}{
		{"absent is auto: 96MiB + 2 batches of 128MiB", "", one, 352 << 20},
		{"auto with two pipelines", "memory_limit: auto\n", two, (96 + 4*128) << 20},
		{"auto never below 320MiB", "memory_limit: AUTO\n", func(c *Config) []*Pipeline {
			c.Pipelines[0].Commit.MaxBytes = 16 << 20
			return one(c)
		}, 320 << 20},
		{"a size", "memory_limit: 1GiB\n", one, 1 << 30},
		{"off", "memory_limit: off\n", one, MemoryLimitOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.yaml+minimal))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.MemoryLimitFor(tc.pipes(c)); got != tc.want {
				t.Errorf("MemoryLimitFor = %d, want %d", got, tc.want)
			}
		})
	}
	runErrorCases(t, []errorCase{
		{"memory limit too small", "memory_limit: 10MiB\n" + minimal,
			`bad.yaml:1: memory_limit: expected auto, off or a size of at least 64MiB, got "10MiB"`},
		{"memory limit not a size", "memory_limit: lots\n" + minimal,
			`bad.yaml:1: memory_limit: expected a size like 128MiB or a number of bytes, got "lots"`},
	})
}
