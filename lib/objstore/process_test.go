package objstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/objstore"
)

// A child process of TestFileStoreAcrossProcesses runs childMain instead of
// the tests when these variables are set.
const (
	childRootEnv  = "OBJSTORE_TEST_CHILD_ROOT"  // the file store's root
	childIDEnv    = "OBJSTORE_TEST_CHILD_ID"    // the child's name, its PutIfAbsent content
	childStartEnv = "OBJSTORE_TEST_CHILD_START" // a file whose appearance starts the race
)

const (
	processes          = 16
	processKeys        = 8 // keys every child tries to create
	processIncrements  = 5 // counter increments per child
	processCounterKey  = "shared/counter"
	processKeyTemplate = "shared/keys/%d"
)

// runChild runs childMain and exits if the test binary was started as a
// child; otherwise it returns.
func runChild() {
	root := os.Getenv(childRootEnv)
	if root == "" {
		return
	}
	if err := childMain(root, os.Getenv(childIDEnv), os.Getenv(childStartEnv)); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childMain waits for the start file, then races the other children: it
// tries to create every shared key, printing "won KEY" for the ones it got,
// and increments the shared counter.
func childMain(root, id, start string) error {
	ctx := context.Background()
	s, err := objstore.NewFile(root)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(start); err == nil {
			break
		} else if time.Now().After(deadline) {
			return errors.New("start file never appeared")
		}
	}
	for k := range processKeys {
		key := fmt.Sprintf(processKeyTemplate, k)
		_, err := s.PutIfAbsent(ctx, key, []byte(id))
		switch {
		case err == nil:
			fmt.Println("won", key)
		case !errors.Is(err, objstore.ErrPreconditionFailed):
			return err
		}
		if k < processIncrements {
			if err := increment(ctx, s, processCounterKey); err != nil {
				return err
			}
		}
	}
	return nil
}

// increment is objstoretest.Increment without a testing.T.
func increment(ctx context.Context, s objstore.Store, key string) error {
	for {
		info, err := s.Stat(ctx, key)
		if err != nil {
			return err
		}
		data, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(data))
		if err != nil {
			return fmt.Errorf("counter holds %q", data)
		}
		_, err = s.PutIfMatch(ctx, key, []byte(strconv.Itoa(n+1)), info.ETag)
		if !errors.Is(err, objstore.ErrPreconditionFailed) {
			return err
		}
	}
}

func TestFileStoreAcrossProcesses(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	start := filepath.Join(t.TempDir(), "start")
	s, err := objstore.NewFile(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), processCounterKey, []byte("0")); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	type child struct {
		cmd    *exec.Cmd
		stdout bytes.Buffer
		stderr bytes.Buffer
	}
	children := make([]*child, processes)
	for i := range children {
		c := &child{cmd: exec.Command(exe, "-test.run=^$")}
		c.cmd.Env = append(os.Environ(),
			childRootEnv+"="+root, childIDEnv+"="+fmt.Sprintf("child-%d", i), childStartEnv+"="+start)
		c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	if err := os.WriteFile(start, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	winners := map[string][]string{} // key -> children that won it
	for i, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("child-%d: %v\n%s", i, err, c.stderr.String())
			continue
		}
		sc := bufio.NewScanner(&c.stdout)
		for sc.Scan() {
			if key, ok := strings.CutPrefix(sc.Text(), "won "); ok {
				winners[key] = append(winners[key], fmt.Sprintf("child-%d", i))
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for k := range processKeys {
		key := fmt.Sprintf(processKeyTemplate, k)
		if len(winners[key]) != 1 {
			t.Errorf("%s won by %v, want exactly one child", key, winners[key])
			continue
		}
		got, err := s.Get(t.Context(), key)
		if err != nil || string(got) != winners[key][0] {
			t.Errorf("%s holds %q, %v, want the winner's %q", key, got, err, winners[key][0])
		}
	}
	got, err := s.Get(t.Context(), processCounterKey)
	if want := strconv.Itoa(processes * processIncrements); err != nil || string(got) != want {
		t.Errorf("counter = %q, %v, want %s", got, err, want)
	}
}
