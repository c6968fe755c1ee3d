package templates

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// paintRects fills a grid from the rectangles of a QR path.
func paintRects(t *testing.T, n int, path []byte) (grid [][]int, rects int) {
	t.Helper()
	grid = make([][]int, n)
	for i := range grid {
		grid[i] = make([]int, n)
	}
	for _, ln := range strings.Split(strings.TrimSuffix(string(path), "\n"), "\n") {
		if ln == "" {
			continue
		}
		rects++
		var x, y, w, h int
		if _, err := fmt.Sscanf(ln, "%d %d %d %d re", &x, &y, &w, &h); err != nil {
			t.Fatalf("bad rectangle %q: %v", ln, err)
		}
		for yy := y; yy < y+h; yy++ {
			for xx := x; xx < x+w; xx++ {
				grid[yy][xx]++
			}
		}
	}
	return grid, rects
}

// The merged rectangles cover exactly the dark modules, each once.
func TestQRPathCoversDarkModules(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bitmaps := map[string][][]bool{
		"synthetic SHC": qrModules(t, syntheticSHCText()),
		"all dark":      filled(21, func(x, y int) bool { return true }),
		"all light":     filled(21, func(x, y int) bool { return false }),
		"stripes":       filled(25, func(x, y int) bool { return x%2 == 0 }),
		"checker":       filled(25, func(x, y int) bool { return (x+y)%2 == 0 }),
		"random":        filled(57, func(x, y int) bool { return rng.IntN(2) == 0 }),
		"staircase":     filled(21, func(x, y int) bool { return x >= y/2 && x < y/2+5 }),
	}
	for name, mods := range bitmaps {
		grid, rects := paintRects(t, len(mods), qrPath(nil, mods))
		dark := 0
		for y, row := range mods {
			for x, m := range row {
				want := 0
				if m {
					want = 1
					dark++
				}
				if grid[y][x] != want {
					t.Fatalf("%s: module (%d,%d) painted %d times, want %d", name, x, y, grid[y][x], want)
				}
			}
		}
		if name == "synthetic SHC" && 2*rects > dark {
			t.Errorf("%s: %d rectangles for %d dark modules, want less than half", name, rects, dark)
		}
		t.Logf("%s: %d dark modules in %d rectangles", name, dark, rects)
	}
}

func filled(n int, dark func(x, y int) bool) [][]bool {
	m := make([][]bool, n)
	for y := range m {
		m[y] = make([]bool, n)
		for x := range m[y] {
			m[y][x] = dark(x, y)
		}
	}
	return m
}

func TestCheckQR(t *testing.T) {
	for n, want := range map[int]bool{21: true, 25: true, 105: true, 177: true, 17: false, 22: false, 181: false} {
		if err := checkQR(squareBitmap(n)); (err == nil) != want {
			t.Errorf("checkQR(%d×%d) = %v, want ok=%v", n, n, err, want)
		}
	}
}
