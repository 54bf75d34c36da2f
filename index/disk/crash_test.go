package disk

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/index"
	"github.com/minewatch/minewatch/index/indextest"
)

const crashDirEnv = "MINEWATCH_DISK_CRASH_DIR"

// TestCrashHelper is the child process of TestKilledProcess: it writes, says
// so, and waits to be killed without closing the store.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestKilledProcess")
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	for _, d := range indextest.Fixtures() {
		if _, err := s.Put(ctx, d); err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
	}
	fmt.Println("committed")
	// Block until killed; the parent never writes to stdin.
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(3)
}

// TestKilledProcess checks that what Put committed survives a SIGKILL: the
// data sits in the WAL, not yet checkpointed, and the next Open recovers it.
func TestKilledProcess(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "committed" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() // "signal: killed" is the expected outcome

	if _, err := os.Stat(dir + "/" + FileName + "-wal"); err != nil {
		t.Logf("no WAL left behind (%v): the test proves less", err)
	}
	s, err := Open(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer s.Close()
	fx := indextest.Fixtures()
	h, err := s.Search(context.Background(), index.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if h.Total != len(fx) {
		t.Errorf("after kill: %d documents, want %d", h.Total, len(fx))
	}
	if h, err := s.Search(context.Background(), index.Query{Text: "оттавської"}); err != nil || h.Total != 1 {
		t.Errorf("after kill: full-text search found %d, %v", h.Total, err)
	}
}
