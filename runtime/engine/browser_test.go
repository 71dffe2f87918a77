package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

// artifactDir is where the browser test leaves its screenshots:
// $CUMULUS_ARTIFACTS when set (CI keeps it), else the test's artifact
// folder (kept with go test -artifacts).
func artifactDir(t *testing.T) string {
	if dir := os.Getenv("CUMULUS_ARTIFACTS"); dir != "" {
		dir = filepath.Join(dir, "engine")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// TestDashboardInBrowser drives the dashboard in a real headless Chromium
// over a simulated run: the granule table lists the completed granules,
// clicking one shows its steps and their logs.
func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no browser at %s (install Debian's chromium package to run the dashboard test): %v", chromium, err)
	}
	if testing.Short() {
		t.Skip("-short: the browser test takes a few seconds")
	}
	sim := simulated(t)
	base := newAPI(t, sim).URL

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()

	dir := artifactDir(t)
	t.Logf("screenshots in %s", dir)
	screenshot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			png, err := chromedp.FullScreenshot(100)(ctx, t) // quality 100 is PNG, below it JPEG
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name), png, 0o644)
		}
	}
	eval := func(expr string) []string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](expr))
		if err != nil {
			t.Fatalf("evaluating %s: %v", expr, err)
		}
		return v
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading the text of %s: %v", sel, err)
		}
		return v
	}

	// The overview: the pipeline's graph is drawn from the API.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`.pipeline[data-pipeline="ingest"] svg.graph`)),
		screenshot("overview.png"),
	); err != nil {
		t.Fatalf("overview: %v", err)
	}
	if nodes := eval(`[...document.querySelectorAll('.pipeline[data-pipeline="ingest"] svg.graph g.node text:first-of-type')].map(n => n.textContent)`); !slices.Equal(nodes, []string{"sync", "preprocess", "metadata", "archive"}) {
		t.Errorf("the ingest graph's nodes are %v, want sync, preprocess, metadata, archive", nodes)
	}

	// The granule table, filtered to completed granules.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/granules"),
		chromedp.WaitVisible(chromedp.CSS(`#granules tbody tr[data-id="`+failedID+`"]`)),
		chromedp.Click(chromedp.CSS(`button[data-status="completed"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#granules tbody tr[data-status="failed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#granules tbody tr[data-status="completed"]`)),
		screenshot("granules.png"),
	); err != nil {
		t.Fatalf("granule table: %v", err)
	}
	var want []string
	for _, id := range completedIDs {
		want = append(want, id+"=completed")
	}
	if got := eval(`[...document.querySelectorAll('#granules tbody tr')].map(r => r.dataset.id + "=" + r.dataset.status)`); !slices.Equal(got, want) {
		t.Errorf("completed granules shown = %v, want %v", got, want)
	}

	// Clicking a granule shows its steps and their logs.
	id := completedIDs[0]
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#granules tbody tr[data-id="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#steps tbody tr[data-step="archive"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.log[data-step="preprocess"]`)),
		screenshot("granule.png"),
	); err != nil {
		t.Fatalf("granule view: %v", err)
	}
	if got := text(`#granule-id`); got != id {
		t.Errorf("the granule view shows granule %q, want %q", got, id)
	}
	wantSteps := []string{"sync=succeeded", "preprocess=succeeded", "metadata=succeeded", "archive=succeeded"}
	if got := eval(`[...document.querySelectorAll('#steps tbody tr')].map(r => r.dataset.step + "=" + r.querySelector('.badge').textContent)`); !slices.Equal(got, wantSteps) {
		t.Errorf("steps shown = %v, want %v", got, wantSteps)
	}
	if got := text(`.log[data-step="preprocess"]`); !strings.Contains(got, "preprocessing "+id) {
		t.Errorf("the preprocess log shows %q, want it to contain %q", got, "preprocessing "+id)
	}

	// The failed granule: a step's logs searched for a text.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/granules/"+failedID+"?step=preprocess&q=calibration"),
		chromedp.WaitVisible(chromedp.CSS(`.log[data-step="preprocess"][data-attempt="2"] mark`)),
		screenshot("failed-granule.png"),
	); err != nil {
		t.Fatalf("failed granule view: %v", err)
	}
	if got := text(`.log[data-step="preprocess"][data-attempt="2"]`); !strings.Contains(got, "calibration table missing") || strings.Contains(got, "preprocessing") {
		t.Errorf("the searched log shows %q, want only the line with the search text", got)
	}
}
