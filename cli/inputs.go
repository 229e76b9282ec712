package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// loaded is a parsed input: its text, its policy, and the diagnostics of
// reading and parsing it.
type loaded struct {
	input  *source.Input
	policy *ast.Policy
	diags  []diag.Diagnostic
}

// inputSet is everything a command read.
type inputSet struct {
	items []*loaded
	files diag.FileSet
	// scripts are the --shell scripts as read, in command-line order, even
	// those without a command with flags (set by load only).
	scripts []source.Shell
}

// diagnostics returns the diagnostics of every input, sorted (those of
// one input are sorted in place, not copied).
func (s *inputSet) diagnostics() []diag.Diagnostic {
	var ds []diag.Diagnostic
	for _, it := range s.items {
		ds = diag.Gather(ds, it.diags)
	}
	diag.Sort(ds)
	return ds
}

// sources returns the sources named on the command line: the --allow-*
// flags, each file argument ("-" is standard input) and each --shell file.
func (a *app) sources(paths []string) ([]source.Source, error) {
	var srcs []source.Source
	srcs = append(srcs, source.Args{Argv: a.env.Args})
	argv := 0
	for _, arg := range a.env.Args {
		argv += len(arg)
	}
	a.inputRead(argv) // (the flags on the command line are input too)
	rd := &fileReader{app: a}
	for _, p := range paths {
		name, content, stdin, err := rd.read(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, source.FlagsFile{Name: name, Content: content, Stdin: stdin})
	}
	for _, p := range a.shell {
		name, content, stdin, err := rd.read(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, source.Shell{Name: name, Content: content, Stdin: stdin})
	}
	return srcs, nil
}

// fileReader reads the files a command names; "-" is standard input,
// which can be read once.
type fileReader struct {
	app       *app
	stdinUsed bool
}

// read returns the name (see originName; "<stdin>" for "-") and content
// of the file at path. A file that cannot be read is a usage error.
func (rd *fileReader) read(path string) (name, content string, stdin bool, err error) {
	if path == "-" {
		if rd.stdinUsed {
			return "", "", false, usageErrorf("standard input (-) can be read only once")
		}
		rd.stdinUsed = true
		b, err := io.ReadAll(rd.app.env.Stdin)
		if err != nil {
			return "", "", false, &exitError{code: ExitUsage, err: fmt.Errorf("reading standard input: %w", err)}
		}
		rd.app.inputRead(len(b))
		return "<stdin>", string(b), true, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", false, &exitError{code: ExitUsage, err: fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))}
	}
	rd.app.inputRead(len(b))
	return originName(path), string(b), false, nil
}

// originName names the origin of a file read from path: the path, or
// "./path" when the path is also the name of another origin (a file called
// "<stdin>" or "argv[2]"), so that no two origins share a name. What an
// origin is, is its kind (diag.OriginKind), never its name.
func originName(path string) string {
	if path == "<stdin>" || strings.HasPrefix(path, "argv[") {
		return "./" + path
	}
	return path
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// load reads and parses every input named on the command line. It is a
// usage error to name none.
func (a *app) load(paths []string) (*inputSet, error) {
	srcs, err := a.sources(paths)
	if err != nil {
		return nil, err
	}
	set := &inputSet{files: diag.FileSet{}}
	for _, src := range srcs {
		if sh, ok := src.(source.Shell); ok {
			set.scripts = append(set.scripts, sh)
		}
		ins, err := src.Read()
		if err != nil {
			return nil, &exitError{code: ExitUsage, err: err}
		}
		for _, in := range ins {
			set.files.Add(in.Files...)
			set.items = append(set.items, parseInput(in))
		}
	}
	if len(set.items) == 0 && len(paths) == 0 && len(a.shell) == 0 {
		return nil, usageErrorf("no flags to read: give --allow-* flags, flags files, - for standard input, or --shell FILE")
	}
	return set, nil
}

// parseInput parses an input: its policy, and the diagnostics of reading
// it followed by those of parsing it (those of parsing as the grammar
// returned them when reading found nothing: a hostile input may have a
// hundred thousand, not to be copied).
func parseInput(in *source.Input) *loaded {
	p, ds := grammar.Parse(in)
	if len(in.Diags) > 0 {
		ds = append(append(make([]diag.Diagnostic, 0, len(in.Diags)+len(ds)), in.Diags...), ds...)
	}
	return &loaded{input: in, policy: p, diags: ds}
}

// compile compiles the policies of every input into one policy, as eval,
// export and proxy decide with it, and returns it with the diagnostics of
// reading, parsing and compiling them (CS101).
func (s *inputSet) compile() (*policy.Policy, []diag.Diagnostic) {
	aps := make([]*ast.Policy, 0, len(s.items))
	for _, it := range s.items {
		aps = append(aps, it.policy)
	}
	p, conflicts := policy.Compile(aps...)
	return p, diag.Gather(s.diagnostics(), conflicts)
}

// loadPolicy reads, parses and compiles every input named on the command
// line into one policy (load, compile). A policy with errors is refused:
// its diagnostics go to standard error and the exit status is 2.
func (a *app) loadPolicy(paths []string) (*policy.Policy, *inputSet, error) {
	set, err := a.load(paths)
	if err != nil {
		return nil, nil, err
	}
	p, ds := set.compile()
	if diag.HasErrors(ds) {
		if err := a.writeDiags(ds, set.files); err != nil {
			return nil, nil, err
		}
		return nil, nil, exit(ExitUsage)
	}
	return p, set, nil
}
