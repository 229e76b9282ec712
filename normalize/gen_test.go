package normalize

import (
	"math/rand/v2"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// The random policies and requests of these tests come from
// internal/policygen, which the evaluator's tests share: flags in people's
// spellings (capitals, trailing dots, leading zeros, the two-word form),
// and requests that hit rules and just miss them.

// genFlag writes one random valid flag, often in a noncanonical spelling.
func genFlag(r *rand.Rand) string { return policygen.Flag(r, policygen.Options{Respell: true}) }

// genFile writes a random flags file of n flags with numbered comments.
func genFile(r *rand.Rand, n int) (text string, comments int) { return policygen.File(r, n) }

// genIfaceTable is the interface table requests are decided with.
func genIfaceTable() *eval.Interfaces { return policygen.Interfaces() }

// poolOf collects the near misses of rules, for requests.
func poolOf(rules []*policy.Rule) *policygen.Pool { return policygen.PoolOf(rules) }

// genRequest makes a random request, half the time from pool.
func genRequest(r *rand.Rand, pool *policygen.Pool) eval.Request { return policygen.Request(r, pool) }
