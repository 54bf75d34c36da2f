package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchHostileSmall runs the quick cases and checks each ends with the
// class the issue asks for; the timing cases are left to the command.
func TestBenchHostileSmall(t *testing.T) {
	var out bytes.Buffer
	cases := "gzip-bomb-10-gb-of-zeros,headers-never-end-fast,redirect-loop,redirect-to-cloud-metadata,billion-laughs,50-mb-page"
	if err := benchHostile(t.Context(), []string{"-retries", "-1", "-cases", cases}, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []string{
		"| gzip bomb (10 GB of zeros) | source failed | too_large |",
		"| headers never end (fast) | source failed | too_large |",
		"| redirect loop | source failed | http |",
		"| redirect to cloud metadata | source failed | private |",
		"| billion laughs | ok: 1 items, 1 articles | — |",
		"| 50 MB page | item failed, feed text kept | too_large |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"50 MB page", "50-mb-page"},
		{"gzip bomb (10 GB of zeros)", "gzip-bomb-10-gb-of-zeros"},
		{"external entity (file:///etc/passwd)", "external-entity-file-etc-passwd"},
		{"100,000-item feed", "100-000-item-feed"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := slug(tt.in); got != tt.want {
				t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
