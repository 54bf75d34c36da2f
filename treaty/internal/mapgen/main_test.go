package main

import (
	"math"
	"testing"
)

// A ring across the ±180° seam (Fiji, Chukotka) splits into two rings that
// stay within [-180, 180] and never jump across the map.
func TestSplitAtAntimeridian(t *testing.T) {
	rings := map[string][][2]float64{
		"starts west of the seam": {{-180, -16.07}, {-179.79, -16.02}, {-179.92, -16.5}, {-180, -16.56},
			{179.36, -16.8}, {179.1, -16.4}, {180, -16.07}},
		"starts east of the seam": {{178.6, 69.4}, {-180, 68.96}, {-178, 67}, {-180, 64.98}, {179.99, 64.97}, {177, 66}},
	}
	for name, ring := range rings {
		t.Run(name, func(t *testing.T) {
			if !crossesAntimeridian(ring) {
				t.Fatal("ring not seen crossing the seam")
			}
			below, above := splitAtAntimeridian(ring)
			for _, half := range [][][2]float64{below, above} {
				if len(half) < 3 {
					t.Fatalf("half with %d points", len(half))
				}
				if crossesAntimeridian(half) {
					t.Errorf("half still crosses the seam: %v", half)
				}
				for _, p := range half {
					if math.Abs(p[0]) > 180 {
						t.Errorf("longitude %v outside [-180, 180]", p[0])
					}
				}
			}
		})
	}
}
