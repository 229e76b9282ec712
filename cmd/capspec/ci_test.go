package main

// Tests of the CI integration: the GitHub Action (action.yml) and the
// example workflows of docs/ci.md, checked by actionlint (and shellcheck,
// where it is installed); the action's steps run for real on a scratch
// repository; the pre-commit hooks (.pre-commit-hooks.yaml) run by
// pre-commit itself.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"
)

// repoRoot is the root of the repository, from this package's directory.
const repoRoot = "../.."

// lintWorkflow checks a workflow with actionlint, and its scripts with
// shellcheck when it is installed (.ci/run installs it).
func lintWorkflow(t *testing.T, name string, content []byte) {
	t.Helper()
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Logf("shellcheck not found: the scripts of %s are not checked (.ci/run installs it)", name)
		sc = ""
	}
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
		Shellcheck: sc, Color: actionlint.ColorOptionKindNever, WorkingDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(name, content, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", name, e.Line, e.Column, e.Message, e.Kind)
	}
}

// yamlBlockRE finds the fenced YAML blocks of a Markdown file.
var yamlBlockRE = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestWorkflowExamples checks every example workflow of docs/ci.md (the
// YAML blocks with jobs) with actionlint.
func TestWorkflowExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs/ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, m := range yamlBlockRE.FindAllSubmatch(b, -1) {
		if !regexp.MustCompile(`(?m)^jobs:`).Match(m[1]) {
			continue
		}
		n++
		lintWorkflow(t, fmt.Sprintf("docs/ci.md#workflow-%d", i+1), m[1])
	}
	if n < 2 {
		t.Errorf("docs/ci.md has %d example workflows, want 2 (the action, and the commands)", n)
	}
}

// action is what the tests read of action.yml.
type action struct {
	Name   string
	Inputs map[string]struct {
		Description string
		Required    bool
		Default     string
	}
	Runs struct {
		Using string
		Steps []map[string]any
	}
}

func readAction(t *testing.T) (*action, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return &a, b
}

// TestActionLints checks action.yml's steps with actionlint (and their
// scripts with shellcheck), as the steps of a workflow whose inputs are
// the action's.
func TestActionLints(t *testing.T) {
	a, _ := readAction(t)
	if a.Runs.Using != "composite" || len(a.Runs.Steps) == 0 {
		t.Fatalf("action.yml is not a composite action with steps: %q, %d steps", a.Runs.Using, len(a.Runs.Steps))
	}
	inputs := map[string]any{}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		inputs[name] = map[string]any{"type": "string", "required": false, "description": in.Description}
	}
	wf := map[string]any{
		"name": "action.yml",
		"on":   map[string]any{"workflow_dispatch": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"action": map[string]any{"runs-on": "ubuntu-latest", "steps": a.Runs.Steps}},
	}
	b, err := json.MarshalIndent(wf, "", "  ") // JSON is YAML
	if err != nil {
		t.Fatal(err)
	}
	lintWorkflow(t, "action.yml (as a workflow)", b)
}

// expr matches an expression of action.yml: ${{ inputs.NAME }} or
// ${{ github.NAME }}.
var exprRE = regexp.MustCompile(`^\$\{\{\s*(inputs|github)\.([a-z_-]+)\s*\}\}$`)

// runner runs the steps of a composite action as a runner would: each
// run step's script with bash, in its working directory, with its env
// (expressions of inputs and github resolved), and GITHUB_PATH,
// GITHUB_STEP_SUMMARY and RUNNER_TEMP set. Steps that use other actions
// (actions/setup-go: Go is here already) are skipped.
type runner struct {
	t       *testing.T
	action  *action
	inputs  map[string]string
	github  map[string]string
	dir     string // the workspace
	temp    string
	path    []string
	summary string
}

func (r *runner) value(s string) string {
	m := exprRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		if strings.Contains(s, "${{") {
			r.t.Fatalf("cannot resolve %q", s)
		}
		return s
	}
	if m[1] == "github" {
		return r.github[m[2]]
	}
	if v, ok := r.inputs[m[2]]; ok {
		return v
	}
	return r.value(r.action.Inputs[m[2]].Default)
}

// condition evaluates a step's "if" of the form inputs.NAME == 'VALUE'.
func (r *runner) condition(s string) bool {
	m := regexp.MustCompile(`^inputs\.([a-z-]+) == '([^']*)'$`).FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		r.t.Fatalf("cannot evaluate if: %q", s)
	}
	return r.value("${{ inputs."+m[1]+" }}") == m[2]
}

// run runs the steps and returns the output of each run step and the exit
// status of the first that fails (0 if none does).
func (r *runner) run() (string, int) {
	var out strings.Builder
	for _, st := range r.action.Runs.Steps {
		script, ok := st["run"].(string)
		if !ok {
			continue // a "uses" step
		}
		if c, ok := st["if"].(string); ok && !r.condition(c) {
			continue
		}
		cmd := exec.Command("bash", "-e", "-c", script)
		cmd.Dir = r.dir
		if wd, ok := st["working-directory"].(string); ok {
			cmd.Dir = r.value(wd)
		}
		env := append(os.Environ(), "RUNNER_TEMP="+r.temp, "GITHUB_PATH="+filepath.Join(r.temp, "path"),
			"GITHUB_STEP_SUMMARY="+r.summary, "PATH="+strings.Join(append(r.path, os.Getenv("PATH")), string(os.PathListSeparator)))
		if e, ok := st["env"].(map[string]any); ok {
			for k, v := range e {
				env = append(env, k+"="+r.value(fmt.Sprint(v)))
			}
		}
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		out.Write(b)
		if p, err := os.ReadFile(filepath.Join(r.temp, "path")); err == nil {
			r.path = strings.Fields(string(p))
		}
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				r.t.Fatal(err)
			}
			return out.String(), ee.ExitCode()
		}
	}
	return out.String(), 0
}

// git runs git in dir.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=capspec", "-c", "user.email=capspec@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, b)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestActionRuns runs the action's steps on a scratch repository whose
// main branch (on an "origin" remote) holds the old policies: it builds
// capspec from this source, lints with annotations, and compares with the
// base branch into the job summary.
func TestActionRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds capspec and runs git: not in -short")
	}
	for _, tool := range []string{"bash", "git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
	a, _ := readAction(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	origin, ws := filepath.Join(tmp, "origin.git"), filepath.Join(tmp, "ws")
	git(t, tmp, "init", "--bare", "-q", origin)
	git(t, tmp, "init", "-q", ws)
	writeFiles(t, ws, map[string]string{
		"policies/app.flags": "--allow-outbound=tcp://example.com:443\n--allow-inbound=tcp://*:8080\n",
		"deploy/run.sh":      "wasmtime run --allow-outbound=tcp://example.com:443 app.wasm\n",
		"org/max.flags":      "--allow-outbound=tcp://*.example.com:443\n--allow-outbound=tcp://example.com:443\n--allow-inbound=tcp://*:8000-8999\n",
	})
	git(t, ws, "add", "-A")
	git(t, ws, "commit", "-q", "-m", "old")
	git(t, ws, "remote", "add", "origin", origin)
	git(t, ws, "push", "-q", "origin", "main")
	git(t, ws, "checkout", "-q", "-b", "change")
	writeFiles(t, ws, map[string]string{
		"policies/app.flags": "--allow-outbound=tcp://example.com:443\n--allow-outbound=tcp://api.example.com:443\n--allow-inbound=tcp://*:8080\n",
		"policies/new.flags": "--allow-outbound=tcp://10.0.0.0/8:5432\n",
		"deploy/run.sh":      "wasmtime run --allow-outbound=tcp://example.com:443,8443 app.wasm\n",
	})

	newRunner := func(inputs map[string]string) *runner {
		temp := t.TempDir()
		return &runner{t: t, action: a, inputs: inputs, dir: ws, temp: temp,
			github:  map[string]string{"action_path": root, "base_ref": "main"},
			summary: filepath.Join(temp, "summary.md")}
	}

	// Within the maximum, no diff: success.
	out, code := newRunner(map[string]string{"files": "policies/app.flags", "within": "org/max.flags"}).run()
	if code != 0 {
		t.Fatalf("lint of a policy within the maximum: status %d\n%s", code, out)
	}

	// A policy beyond the maximum: CS401 annotations, status 1.
	r := newRunner(map[string]string{"files": "policies/**/*.flags", "shell": "deploy/*.sh", "within": "org/max.flags"})
	out, code = r.run()
	if code != 1 || !strings.Contains(out, "::error file=policies/new.flags,line=1,col=18,endColumn=39,title=CS401::allows connect tcp 10.0.0.1:5432") ||
		!strings.Contains(out, "::error file=deploy/run.sh,line=1") {
		t.Fatalf("lint beyond the maximum: status %d (want 1)\n%s", code, out)
	}

	// The diff against the base branch, into the job summary.
	r = newRunner(map[string]string{"files": "policies/*.flags", "shell": "deploy/run.sh", "diff": "true", "fail-on": "info", "disable": "CS201,CS204,CS302,CS303"})
	out, code = r.run()
	if code != 0 {
		t.Fatalf("diff without diff-fail: status %d (want 0)\n%s", code, out)
	}
	summary, err := os.ReadFile(r.summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### capspec diff against main",
		"#### `policies/app.flags`",
		"| + added | `--allow-resolve=api.example.com` | implied by policies/app.flags:2 | `lookup api.example.com` |",
		"#### `policies/new.flags`",
		"| + added | `--allow-outbound=tcp://10.0.0.0/8:5432` | policies/new.flags:1 |",
		"#### `deploy/run.sh`",
		"| + added | `--allow-outbound=tcp://example.com:8443` | deploy/run.sh:1 |",
	} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("job summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(out, "::warning file=policies/new.flags,line=1,col=1,endColumn=39,title=capspec diff::newly allowed: --allow-outbound=tcp://10.0.0.0/8:5432") {
		t.Errorf("no annotation of the added region:\n%s", out)
	}

	// diff-fail: status 1 when anything is added.
	r = newRunner(map[string]string{"files": "policies/app.flags", "diff": "true", "diff-fail": "true"})
	if out, code = r.run(); code != 1 {
		t.Errorf("diff-fail with a grant added: status %d (want 1)\n%s", code, out)
	}

	// No input: status 2.
	if out, code = newRunner(map[string]string{}).run(); code != 2 || !strings.Contains(out, "no files to lint") {
		t.Errorf("no files: status %d (want 2)\n%s", code, out)
	}
}

// snapshot commits the working tree of this repository (tracked and
// untracked files, as git would add them) into a new repository, so that
// pre-commit, which clones a hook repository at HEAD, sees this source
// whatever is committed.
func snapshot(t *testing.T, dst string) {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = repoRoot
	b, err := cmd.Output()
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") {
		content, err := os.ReadFile(filepath.Join(repoRoot, name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dst, map[string]string{name: string(content)})
	}
	git(t, dst, "init", "-q")
	git(t, dst, "add", "-A")
	git(t, dst, "commit", "-q", "-m", "snapshot")
}

// TestPreCommitHooks runs the hooks of .pre-commit-hooks.yaml with
// pre-commit try-repo on a scratch repository holding a bad, a good and a
// non-canonical flags file. pre-commit builds capspec from this source
// (language: golang) with the machine's module cache.
func TestPreCommitHooks(t *testing.T) {
	if testing.Short() {
		t.Skip("pre-commit builds capspec: not in -short")
	}
	pc, err := exec.LookPath("pre-commit")
	if err != nil {
		t.Skip("pre-commit not found (.ci/run installs it with apt-get install pre-commit)")
	}
	tmp := t.TempDir()
	hooks, work := filepath.Join(tmp, "hooks"), filepath.Join(tmp, "work")
	snapshot(t, hooks)
	git(t, tmp, "init", "-q", work)
	writeFiles(t, work, map[string]string{
		"bad.flags":  "--allow-outbound=tcp://example.com:70000\n",
		"good.flags": "--allow-outbound=tcp://example.com:443\n",
		"ugly.flags": "--allow-outbound=TCP://Example.com:0443\n",
		"notes.txt":  "--allow-outbound=tcp://example.com:70000\n",
	})
	git(t, work, "add", "-A")
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	// try runs every hook of the repository on files (each try-repo
	// installs the hooks anew, which builds capspec).
	try := func(files ...string) (string, int) {
		t.Helper()
		args := append([]string{"try-repo", hooks, "--files"}, files...)
		cmd := exec.Command(pc, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "PRE_COMMIT_HOME="+filepath.Join(tmp, "cache"),
			"GOMODCACHE="+strings.TrimSpace(string(modcache)), "PRE_COMMIT_COLOR=never")
		b, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(b), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(b), 0
	}
	hookLine := regexp.MustCompile(`(?m)^(capspec lint|capspec fmt)\.+(Passed|Failed)$`)
	results := func(out string) map[string]string {
		m := map[string]string{}
		for _, x := range hookLine.FindAllStringSubmatch(out, -1) {
			m[x[1]] = x[2]
		}
		return m
	}
	// A bad file: both hooks fail (fmt refuses a policy with errors and
	// writes nothing).
	out, code := try("bad.flags", "notes.txt")
	if r := results(out); code != 1 || r["capspec lint"] != "Failed" || r["capspec fmt"] != "Failed" ||
		!strings.Contains(out, "bad.flags:1:36: error[CS002]: port 70000 is out of range") {
		t.Errorf("hooks on a bad file: status %d (want 1), %v\n%s", code, r, out)
	}
	// A non-canonical file: lint passes, fmt rewrites it and fails.
	out, code = try("ugly.flags")
	if r := results(out); code != 1 || r["capspec lint"] != "Passed" || r["capspec fmt"] != "Failed" ||
		!strings.Contains(out, "files were modified by this hook") {
		t.Errorf("hooks on a non-canonical file: status %d (want 1), %v\n%s", code, r, out)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "ugly.flags")); string(b) != "--allow-outbound=tcp://example.com:443\n" {
		t.Errorf("capspec-fmt wrote %q", b)
	}
	// Good and canonical files (and a file no hook checks): both pass.
	out, code = try("good.flags", "ugly.flags", "notes.txt")
	if r := results(out); code != 0 || r["capspec lint"] != "Passed" || r["capspec fmt"] != "Passed" {
		t.Errorf("hooks on good files: status %d (want 0), %v\n%s", code, r, out)
	}
}
