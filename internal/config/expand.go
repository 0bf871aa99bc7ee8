package config

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// varRef is a reference to an environment variable in a config value: ${NAME}. $${ is a literal ${.
var varRef = regexp.MustCompile(`\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{[^}]*\}?`)

// expansion is one value an environment variable put into the config, so errors can name the variable
// instead of printing the value (a password, often).
type expansion struct{ value, ref string }

// expand replaces ${NAME} in every scalar value of the tree below n (keys are left alone) with the
// environment variable NAME. An unset variable or a malformed reference is an error at the value's line and
// key path.
func (d *decoder) expand(n *yaml.Node, path string, lookup func(string) (string, bool)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			d.expand(c, path, lookup)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.expand(n.Content[i+1], join(path, n.Content[i].Value), lookup)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.expand(c, path+"["+strconv.Itoa(i)+"]", lookup)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = varRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			if m == "$${" {
				return "${"
			}
			sub := varRef.FindStringSubmatch(m)
			if sub[1] == "" {
				d.fail(n.Line, path, "malformed environment variable reference %q (expected ${NAME}, NAME of letters, digits and _)", m)
				return m
			}
			v, ok := lookup(sub[1])
			if !ok {
				d.fail(n.Line, path, "environment variable %s is not set (referenced as %s)", sub[1], m)
				return m
			}
			if v != "" {
				d.secrets = append(d.secrets, expansion{value: v, ref: m})
			}
			return v
		})
	}
}

// redact replaces, in every error message, the values variables put into the config with the references
// that put them there, so a value given through the environment never reaches a message.
func redact(errs []*Error, secrets []expansion) {
	for _, e := range errs {
		for _, s := range secrets {
			e.Msg = strings.ReplaceAll(e.Msg, s.value, s.ref)
		}
	}
}
