package interop

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// The random policies and requests of the property tests come from
// internal/policygen, shared with the evaluator's and the formatter's
// tests. nearPool adds the boundaries of the runtime's side (its name
// patterns, networks and port ranges, which an export may widen or merge
// and an import reads from the runtime's own syntax), so that requests
// meet both sides at their edges. The runtimes' configurations for import
// are made here (randomRuntime), from each runtime's syntax.

// nearPool returns the near misses of a policy's rules and of a runtime
// configuration's boundaries.
func nearPool(p *policy.Policy, c *Config) *policygen.Pool {
	pool := policygen.PoolOf(append(slices.Clone(p.Rules), p.Resolves...))
	var b bounds
	c.model.bounds(&b)
	for _, pt := range b.patterns {
		switch pt.Kind {
		case Exact:
			pool.AddName(pt.Text)
		case Below, BelowOrApex:
			pool.AddDomain(pt.Text)
		case Suffix:
			if d, ok := strings.CutPrefix(pt.Text, "."); ok {
				pool.AddDomain(d)
			} else {
				// A raw suffix: the name itself, one below it, and one that
				// ends with its text without being below it.
				pool.AddDomain(pt.Text)
				pool.AddName("a" + pt.Text)
			}
		}
	}
	for _, pf := range b.prefixes {
		pool.AddPrefix(pf)
	}
	for i := 0; i+1 < len(b.cuts); i += 2 {
		pool.AddPortRange(b.cuts[i], b.cuts[i+1]-1)
	}
	return pool
}

// sample returns a random request near the pool, normalized as the
// models take it; ok is false for a request the comparison leaves out: a
// malformed one, a lookup of an IP literal (no permission is needed), a
// connect or send to port 0 (no destination, and no request of SPEC §3.6).
func sample(r *rand.Rand, near *policygen.Pool) (q eval.Request, ok bool) {
	q = policygen.Request(r, near)
	switch {
	case !normalizeRequest(&q):
		return q, false
	case q.Op == eval.Lookup && q.Addr.IsValid():
		return q, false
	case (q.Op == eval.Connect || q.Op == eval.Send) && q.Port == 0:
		return q, false
	}
	return q, true
}

func pick[T any](r *rand.Rand, xs []T) T { return policygen.Pick(r, xs) }
