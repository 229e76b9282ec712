package source

import (
	"strings"

	"github.com/capspec/capspec/diag"
)

// Args reads the --allow-* flags given on capspec's own command line. Argv
// is the whole command line with the program name at index 0, so that
// positions read argv[N]:col as a shell user counts them. Scanning stops at
// "--". Both "--allow-X=SPEC" and "--allow-X SPEC" are read, and so are
// misspelled flag names (NearFlagName: --allow-outboud=...), which the
// grammar reports with a suggestion.
type Args struct {
	Argv []string
}

// argFlag is one flag of the command line: the argv index of its name,
// and of its value in the two-word form (0 for none).
type argFlag struct {
	name, value int
}

// flags finds the flags of the command line.
func (a Args) flags() []argFlag {
	var out []argFlag
	for i := 1; i < len(a.Argv); i++ {
		arg := a.Argv[i]
		if arg == "--" {
			break
		}
		if !NearFlagName(arg) {
			continue
		}
		if strings.Contains(arg, "=") || i+1 >= len(a.Argv) || a.Argv[i+1] == "--" {
			out = append(out, argFlag{name: i})
			continue
		}
		out = append(out, argFlag{name: i, value: i + 1})
		i++
	}
	return out
}

// Misspelled returns the argv indices of the words of misspelled flags —
// a name close to one of the three but not one, and its value in the
// two-word form — in order. Read reads them as flags, so that the grammar
// reports them (CS001, with the flag name meant); a command-line parser
// must leave them to it.
func (a Args) Misspelled() []int {
	var out []int
	for _, f := range a.flags() {
		name, _, _ := strings.Cut(a.Argv[f.name], "=")
		if IsFlagName(name) {
			continue
		}
		out = append(out, f.name)
		if f.value > 0 {
			out = append(out, f.value)
		}
	}
	return out
}

// Read returns one input holding every --allow-* flag of the command
// line, named "argv", or none when there are no such flags.
func (a Args) Read() ([]*Input, error) {
	in := &Input{Name: "argv", Kind: ArgsInput}
	file := func(i int) *diag.File {
		f := diag.NewArg(i, a.Argv[i])
		in.Files = append(in.Files, f)
		return f
	}
	for _, af := range a.flags() {
		arg := a.Argv[af.name]
		nameFile := file(af.name)
		if af.value == 0 {
			r := nameFile.Range(0, len(arg))
			in.Flags = append(in.Flags, &Flag{Text: arg, Loc: diag.Shift(nameFile, 0, len(arg)), Words: []diag.Range{r}})
			continue
		}
		value := a.Argv[af.value]
		valueFile := file(af.value)
		in.Flags = append(in.Flags, &Flag{
			Text: arg + " " + value,
			Loc: diag.Mapped{
				{Text: 0, File: nameFile, Origin: 0, Len: len(arg)},
				{Text: len(arg), File: valueFile, Origin: 0, Len: 0},
				{Text: len(arg) + 1, File: valueFile, Origin: 0, Len: len(value)},
			},
			Words: []diag.Range{nameFile.Range(0, len(arg)), valueFile.Range(0, len(value))},
		})
	}
	if len(in.Flags) == 0 {
		return nil, nil
	}
	return []*Input{in}, nil
}
