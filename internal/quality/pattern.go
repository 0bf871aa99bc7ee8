package quality

import (
	"fmt"
	"regexp"
	"regexp/syntax"
)

// pattern is a compiled "pattern" keyword. Most definition patterns are anchored sequences of ASCII
// character classes, such as ^p[0-9]{6}$ or ^[a-z_]+[0-9]+$; those run on a small greedy matcher, about ten
// times faster than regexp. The rest use regexp (RE2 syntax, as the jsonschema library does).
type pattern struct {
	src   string
	re    *regexp.Regexp
	items []patItem // the fast form; nil means use re
	end   bool      // the fast form is anchored at the end
	fast  bool
}

// patItem is one character class repeated min to max (-1: unbounded) times.
type patItem struct {
	set      [2]uint64 // ASCII bytes in the class
	tab      [256]bool // the same, for matching
	min, max int
}

func compilePattern(src string) (*pattern, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %v", src, err)
	}
	p := &pattern{src: src, re: re}
	if tree, err := syntax.Parse(src, syntax.Perl); err == nil {
		p.items, p.end, p.fast = fastForm(tree)
	}
	return p, nil
}

// match reports whether s contains a match, as regexp.Match does.
func (p *pattern) match(s []byte) bool {
	if !p.fast {
		return p.re.Match(s)
	}
	pos := 0
	for i := range p.items {
		it := &p.items[i]
		end := len(s)
		if it.max >= 0 && pos+it.max < end {
			end = pos + it.max
		}
		start := pos
		for pos < end && it.tab[s[pos]] {
			pos++
		}
		if pos-start < it.min {
			return false
		}
	}
	return !p.end || pos == len(s)
}

// fastForm turns ^item item ... [$] into items when greedy matching without backtracking gives the same
// answer as regexp: every variable-length item's class is disjoint from the classes that may follow it up
// to the next mandatory item.
func fastForm(re *syntax.Regexp) (items []patItem, end, ok bool) {
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	if len(subs) == 0 || subs[0].Op != syntax.OpBeginText {
		return nil, false, false
	}
	subs = subs[1:]
	if len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
		end = true
		subs = subs[:len(subs)-1]
	}
	for _, sub := range subs {
		if !appendItems(&items, sub) {
			return nil, false, false
		}
	}
	for i := range items {
		if items[i].min == items[i].max {
			continue
		}
		for j := i + 1; j < len(items); j++ {
			if items[i].set[0]&items[j].set[0] != 0 || items[i].set[1]&items[j].set[1] != 0 {
				return nil, false, false
			}
			if items[j].min > 0 {
				break
			}
		}
	}
	return items, end, true
}

func appendItems(items *[]patItem, re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			it, ok := class(&syntax.Regexp{Op: syntax.OpLiteral, Rune: []rune{r}, Flags: re.Flags})
			if !ok {
				return false
			}
			*items = append(*items, it)
		}
		return true
	case syntax.OpCharClass:
		it, ok := class(re)
		if ok {
			*items = append(*items, it)
		}
		return ok
	case syntax.OpCapture:
		return appendItems(items, re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !appendItems(items, sub) {
				return false
			}
		}
		return true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		it, ok := class(re.Sub[0])
		if !ok {
			return false
		}
		switch re.Op {
		case syntax.OpStar:
			it.min, it.max = 0, -1
		case syntax.OpPlus:
			it.min, it.max = 1, -1
		case syntax.OpQuest:
			it.min, it.max = 0, 1
		default:
			it.min, it.max = re.Min, re.Max
		}
		*items = append(*items, it)
		return true
	}
	return false
}

// class turns a single-character expression with only ASCII members into an item matching it once.
func class(re *syntax.Regexp) (patItem, bool) {
	it := patItem{min: 1, max: 1}
	var pairs []rune
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 || re.Flags&syntax.FoldCase != 0 {
			return it, false
		}
		pairs = []rune{re.Rune[0], re.Rune[0]}
	case syntax.OpCharClass:
		pairs = re.Rune
	default:
		return it, false
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		lo, hi := pairs[i], pairs[i+1]
		if lo < 0 || hi >= 128 {
			return it, false
		}
		for r := lo; r <= hi; r++ {
			it.set[r>>6] |= 1 << (r & 63)
			it.tab[r] = true
		}
	}
	return it, true
}
