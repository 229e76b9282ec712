package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/capspec/capspec/diag"
)

// WriteGitHub writes diagnostics as GitHub Actions workflow commands, one
// per line:
//
//	::error file=policy.flags,line=3,col=36,endColumn=41,title=CS002::port 70000 is out of range (0-65535)
//
// Errors are "error", warnings "warning" and infos "notice". A range over
// several lines adds endLine. Diagnostics of command-line arguments and
// standard input have no file; their message starts with the origin.
// Values are escaped as the Actions toolkit escapes them.
func WriteGitHub(w io.Writer, ds []diag.Diagnostic) error {
	b := bufio.NewWriterSize(w, 64<<10) // written as made, not gathered first
	for _, d := range ds {
		b.WriteString("::")
		b.WriteString(command(d.Severity))
		b.WriteByte(' ')
		msg := d.Summary
		if d.Detail != "" {
			msg += "\n" + d.Detail
		}
		r := d.Range
		var props []string
		if r.IsArg() || r.Origin == "<stdin>" || r.Origin == "" {
			msg = r.String() + ": " + msg
		} else {
			props = append(props, "file="+escapeProperty(r.Origin), fmt.Sprintf("line=%d", r.Start.Line))
			if r.End.Line > r.Start.Line {
				props = append(props, fmt.Sprintf("endLine=%d", r.End.Line))
			}
			props = append(props, fmt.Sprintf("col=%d", r.Start.Column))
			if r.End.Line == r.Start.Line && r.End.Column > r.Start.Column {
				props = append(props, fmt.Sprintf("endColumn=%d", r.End.Column))
			}
		}
		props = append(props, "title="+escapeProperty(d.ID))
		b.WriteString(strings.Join(props, ","))
		b.WriteString("::")
		b.WriteString(escapeData(msg))
		b.WriteByte('\n')
	}
	return b.Flush()
}

// command returns the workflow command of a severity.
func command(s diag.Severity) string {
	switch s {
	case diag.Error:
		return "error"
	case diag.Warning:
		return "warning"
	}
	return "notice"
}

// escapeData escapes a command's message as the Actions toolkit does.
func escapeData(s string) string { return dataEscaper.Replace(s) }

// dataEscaper and propertyEscaper are made once: a Replacer builds its
// tables on first use, which costs more than escaping one message.
var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// escapeProperty escapes a command property's value as the Actions
// toolkit does.
func escapeProperty(s string) string {
	return propertyEscaper.Replace(s)
}
