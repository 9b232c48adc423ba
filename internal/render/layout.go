package render

import "github.com/heraldreports/herald/internal/herald"

// Page geometry in millimetres (A4) and type sizes in points.
const (
	a4Short        = 210.0
	a4Long         = 297.0
	pageMargin     = 12.0
	footerSpace    = 14.0 // from the page bottom up to the end of the table area
	bodyPt         = 8.0
	headerPt       = 8.0
	titlePt        = 15.0
	metaPt         = 9.0
	footerPt       = 7.5
	rowHeight      = 5.2
	headerHeight   = 6.6
	cellPad        = 1.6
	cellSpace      = 2*cellPad + 0.5 // around a cell's text
	minColWidth    = 12.0            // text columns shrink to this, not below
	maxColWidth    = 90.0            // no column is wider by nature
	maxNumberWidth = 40.0            // number columns shrink to their content, up to this
	minTypeScale   = 0.75            // a wide table's type is set down to 6 pt
	minNumberScale = 0.6             // a number may be set this much smaller to fit its cell
	ptPerMM        = 72 / 25.4
)

// typeScale returns the factor the type of a table too wide for avail is
// scaled by so that its content fits (not below minTypeScale).
func typeScale(natural []float64, avail float64) float64 {
	total := sum(natural)
	if total <= avail {
		return 1
	}
	space := float64(len(natural)) * cellSpace
	if avail <= space {
		return minTypeScale
	}
	return max(minTypeScale, (avail-space)/(total-space))
}

// tableWidth returns the width available to the table.
func tableWidth(landscape bool) float64 {
	if landscape {
		return a4Long - 2*pageMargin
	}
	return a4Short - 2*pageMargin
}

// chooseLandscape picks the orientation: landscape when asked, or when the
// table's natural width does not fit a portrait page under auto.
func chooseLandscape(o herald.Orientation, natural []float64) bool {
	switch o {
	case herald.OrientationLandscape:
		return true
	case herald.OrientationPortrait:
		return false
	}
	return sum(natural) > tableWidth(false)+0.01
}

// fitWidths sizes columns to fill avail: a table narrower than avail is
// widened proportionally; a wider one is shrunk proportionally, but no
// column below its minimum (columns that hit it are fixed there and the rest
// shrink further). When even the minimums do not fit, they are scaled down
// together.
func fitWidths(natural, minimum []float64, avail float64) []float64 {
	n := len(natural)
	w := make([]float64, n)
	total := sum(natural)
	if total <= avail {
		for i := range w {
			w[i] = natural[i] * avail / total
		}
		return w
	}
	if mins := sum(minimum); mins >= avail {
		for i := range w {
			w[i] = minimum[i] * avail / mins
		}
		return w
	}
	fixed := make([]bool, n)
	for range n {
		free, flex := avail, 0.0
		for i := range n {
			if fixed[i] {
				free -= minimum[i]
			} else {
				flex += natural[i]
			}
		}
		changed := false
		for i := range n {
			w[i] = minimum[i]
			if !fixed[i] {
				w[i] = natural[i] * free / flex
				if w[i] < minimum[i] {
					fixed[i], changed = true, true
				}
			}
		}
		if !changed {
			break
		}
	}
	return w
}

// sum adds up widths.
func sum(ws []float64) float64 {
	t := 0.0
	for _, w := range ws {
		t += w
	}
	return t
}
