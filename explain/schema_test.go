package explain

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schema compiles the JSON Schema of docs/explain.md: the json block
// after the "<!-- schema -->" marker.
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("../docs/explain.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- schema -->\n```json\n")
	if !ok {
		t.Fatal("docs/explain.md has no schema block")
	}
	text, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatal("docs/explain.md: schema block does not end")
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://github.com/capspec/capspec/docs/explain.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestSchema checks the JSON of every golden archive, and the example of
// docs/explain.md, against the documented schema.
func TestSchema(t *testing.T) {
	sch := schema(t)
	b, err := os.ReadFile("../docs/explain.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "## JSON (`--format json`)")
	_, rest, _ = strings.Cut(rest, "```json\n")
	example, _, _ := strings.Cut(rest, "\n```")
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(example))
	if err != nil {
		t.Fatalf("docs/explain.md example: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("docs/explain.md example does not match the schema: %v", err)
	}
	for path, data := range goldenSections(t, func(name string) bool { return name == "json" }) {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: JSON does not match docs/explain.md: %v", path, err)
		}
	}
}

// goldenSections returns the sections of the golden archives whose names
// keep accepts, by archive path and section name.
func goldenSections(t *testing.T, keep func(name string) bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	paths, _ := filepath.Glob(filepath.Join(goldenDir, "*.txtar"))
	for _, path := range paths {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if keep(f.Name) {
				out[path+"/"+f.Name] = string(f.Data)
			}
		}
	}
	return out
}
