package lsp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nvimInit is the test-init.lua of TestNeovim: Neovim's built-in client
// (vim.lsp.start_client, as Neovim 0.7 has it) starts capspec lsp for the
// file being edited, once it is loaded (VimEnter); the first diagnostics it publishes are written to
// CAPSPEC_OUT as "line:col:code:message" (0-based line, byte column, as
// Neovim converts them from the server's UTF-16 positions), then Neovim
// quits. After 20 seconds without diagnostics it writes "timeout" and quits.
const nvimInit = `
local out = os.getenv('CAPSPEC_OUT')
local bin = os.getenv('CAPSPEC_BIN')
local function finish(lines)
  vim.fn.writefile(lines, out)
  vim.cmd('qall!')
end
vim.defer_fn(function() finish({'timeout'}) end, 20000)
vim.api.nvim_create_autocmd('VimEnter', { callback = function()
  local client = vim.lsp.start_client({
    name = 'capspec',
    cmd = { bin, 'lsp' },
    root_dir = vim.fn.getcwd(),
    handlers = {
      ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
        vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
        local lines = {}
        for _, d in ipairs(vim.diagnostic.get(vim.uri_to_bufnr(result.uri))) do
          table.insert(lines, string.format('%d:%d:%s:%s', d.lnum, d.col, d.code or '', (d.message:gsub('\n', ' '))))
        end
        finish(lines)
      end,
    },
  })
  vim.lsp.buf_attach_client(0, client)
end })
`

// TestNeovim opens a flags file with a typo in Neovim, started headless with
// its built-in LSP client against the built capspec lsp, and reads back the
// diagnostics Neovim received. The typo follows fullwidth letters and an
// emoji on its line, so the column checks the UTF-16 positions end to end.
func TestNeovim(t *testing.T) {
	nvim, err := exec.LookPath("nvim")
	if err != nil {
		t.Skip("nvim not found: install Debian's neovim (apt-get install neovim; .ci/run does) to run this test")
	}
	bin := capspecBinary(t)
	dir := t.TempDir()
	flags := "# a policy\n--allow-resolve=ｅｘａｍｐｌｅ.com --allow-outbound=tpc://example.com:443\n--allow-inbound=tcp://[::1]:8080\n"
	os.WriteFile(filepath.Join(dir, "policy.flags"), []byte(flags), 0o644)
	os.WriteFile(filepath.Join(dir, "test-init.lua"), []byte(nvimInit), 0o644)
	out := filepath.Join(dir, "diagnostics.txt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-u", "test-init.lua", "policy.flags")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CAPSPEC_OUT="+out, "CAPSPEC_BIN="+bin, "HOME="+dir, "XDG_STATE_HOME="+dir, "XDG_DATA_HOME="+dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nvim: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("Neovim wrote no diagnostics: %v", err)
	}
	// The typo "tpc" on line 1 (from 0), at its byte column: after the
	// fullwidth name, which takes 3 bytes but 1 UTF-16 unit a letter.
	second := strings.Split(flags, "\n")[1]
	want := "1:" + strconv.Itoa(strings.Index(second, "tpc")) + ":CS001:"
	found := false
	for _, l := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		if strings.HasPrefix(l, want) && strings.Contains(l, "did you mean tcp") {
			found = true
		}
	}
	if !found {
		t.Errorf("Neovim's diagnostics:\n%s\nwant one starting %q", got, want)
	}
}
