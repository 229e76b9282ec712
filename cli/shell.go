package cli

import (
	"sort"

	"github.com/capspec/capspec/source"
)

// rewriteScripts returns the new content of every shell script of a set
// whose flags change: each command's flag words are replaced by the flags
// that flags returns for it (canonical texts, "--allow-X=SPEC", unquoted),
// every other byte of the script is kept. Scripts that do not change are
// left out. It is the --shell half of fmt: fmt decides the flags, this
// puts them into the scripts.
func rewriteScripts(set *inputSet, flags func(*loaded) ([]string, error)) (map[string]string, error) {
	byScript := map[string][]source.ShellRewrite{}
	for _, it := range set.items {
		if !set.isScript(it) {
			continue
		}
		fs, err := flags(it)
		if err != nil {
			return nil, err
		}
		name := it.input.Files[0].Name
		byScript[name] = append(byScript[name], source.ShellRewrite{Input: it.input, Flags: fs})
	}
	names := make([]string, 0, len(byScript))
	for name := range byScript {
		names = append(names, name)
	}
	sort.Strings(names)
	out := map[string]string{}
	for _, name := range names {
		content := set.files.File(name).Content
		fixed, err := source.RewriteShell(content, byScript[name])
		if err != nil {
			return nil, &exitError{code: ExitUsage, err: err}
		}
		if fixed != content {
			out[name] = fixed
		}
	}
	return out, nil
}

// isScript reports whether an input is a command of a --shell script.
func (s *inputSet) isScript(it *loaded) bool {
	return it.input.Kind == source.ScriptInput
}
