package source

import (
	"fmt"
	"strings"

	"github.com/capspec/capspec/diag"
)

// Args reads the --allow-* flags given on capspec's own command line. Argv
// is the whole command line with the program name at index 0, so that
// positions read argv[N]:col as a shell user counts them. Scanning stops at
// "--". Both "--allow-X=SPEC" and "--allow-X SPEC" are read.
type Args struct {
	Argv []string
}

// Read returns one input named "argv" holding every --allow-* flag, or none
// when there are no such flags.
func (a Args) Read() ([]*Input, error) {
	in := &Input{Name: "argv"}
	file := func(i int) *diag.File {
		f := diag.NewFile(fmt.Sprintf("argv[%d]", i), a.Argv[i])
		in.Files = append(in.Files, f)
		return f
	}
	for i := 1; i < len(a.Argv); i++ {
		arg := a.Argv[i]
		if arg == "--" {
			break
		}
		if !strings.HasPrefix(arg, "--allow-") {
			continue
		}
		if name, _, ok := strings.Cut(arg, "="); ok {
			if !IsFlagName(name) {
				continue
			}
			f := file(i)
			r := f.Range(0, len(arg))
			in.Flags = append(in.Flags, &Flag{Text: arg, Loc: diag.Shift(f, 0, len(arg)), Range: r, Words: []diag.Range{r}})
			continue
		}
		if !IsFlagName(arg) {
			continue
		}
		nameFile := file(i)
		if i+1 >= len(a.Argv) || a.Argv[i+1] == "--" {
			r := nameFile.Range(0, len(arg))
			in.Flags = append(in.Flags, &Flag{Text: arg, Loc: diag.Shift(nameFile, 0, len(arg)), Range: r, Words: []diag.Range{r}})
			continue
		}
		i++
		value := a.Argv[i]
		valueFile := file(i)
		in.Flags = append(in.Flags, &Flag{
			Text: arg + " " + value,
			Loc: diag.Mapped{
				{Text: 0, File: nameFile, Origin: 0, Len: len(arg)},
				{Text: len(arg), File: valueFile, Origin: 0, Len: 0},
				{Text: len(arg) + 1, File: valueFile, Origin: 0, Len: len(value)},
			},
			Range: nameFile.Range(0, len(arg)),
			Words: []diag.Range{nameFile.Range(0, len(arg)), valueFile.Range(0, len(value))},
		})
	}
	if len(in.Flags) == 0 {
		return nil, nil
	}
	return []*Input{in}, nil
}
