//go:build ignore

// gen writes the legacy-encoded pages and feeds of the test site in
// testdata/site. {{base}} is replaced by the test server's URL when served.
// Run with: go run testdata/gen.go (from ingest).
package main

import (
	"log"
	"os"
	"path/filepath"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

func write(name string, enc encoding.Encoding, text string) {
	b, err := enc.NewEncoder().Bytes([]byte(text))
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "site", name), b, 0o644); err != nil {
		log.Fatal(err)
	}
}

func main() {
	write("feed.xml", charmap.Windows1257, `<?xml version="1.0" encoding="windows-1257"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>LRT naujienos</title>
<link>{{base}}/</link>
<language>lt</language>
<ttl>60</ttl>
<item>
  <title>Seimas balsavo už pasitraukimą iš Otavos konvencijos</title>
  <link>{{base}}/news/seimas?utm_source=rss&amp;utm_medium=feed</link>
  <guid>seimas-2025-05-08</guid>
  <pubDate>Thu, 08 May 2025 10:30:00 +0300</pubDate>
  <description>Seimas pritarė pasitraukimui iš konvencijos dėl priešpėstinių minų.</description>
</item>
<item>
  <title>Lietuva deponavo denonsavimo dokumentą</title>
  <link>{{base}}/news/broken</link>
  <pubDate>Fri, 27 Jun 2025 18:00:00 +0300</pubDate>
  <description>Dokumentas įteiktas JT generaliniam sekretoriui.</description>
  <content:encoded><![CDATA[<p>Dokumentas įteiktas <b>JT generaliniam sekretoriui</b>.</p><p>Pasitraukimas įsigalios gruodžio 27 d.</p>]]></content:encoded>
</item>
<item>
  <title>Jau žinomas straipsnis</title>
  <link>{{base}}/news/known</link>
</item>
<item>
  <title>Rusijos žiniasklaida apie Lietuvą</title>
  <link>{{base}}/news/ru-page</link>
  <description>Apžvalga.</description>
</item>
<item>
  <title>Įrašas be nuorodos</title>
  <description>Neturi nuorodos.</description>
</item>
</channel>
</rss>
`)
	write("seimas.html", charmap.Windows1257, `<!DOCTYPE html>
<html lang="lt"><head><meta charset="windows-1257">
<title>Seimas balsavo - LRT</title>
<link rel="canonical" href="/news/2025/05/08/seimas">
<meta property="og:site_name" content="LRT">
</head><body><article>
<h1>Seimas balsavo už pasitraukimą iš Otavos konvencijos</h1>
<time datetime="2025-05-08T07:30:00Z">2025-05-08</time>
<p>Seimas 107 balsais pritarė Lietuvos pasitraukimui iš Otavos konvencijos dėl priešpėstinių minų.</p>
<p>Prieš balsavo 0 Seimo narių, susilaikė trys.</p>
</article></body></html>
`)
	write("ru-page.html", charmap.Windows1251, `<!DOCTYPE html>
<html><head><title>Литва</title></head><body><article>
<h1>Литва вышла из Оттавской конвенции</h1>
<p>Сейм Литвы проголосовал за выход из конвенции о запрете противопехотных мин.</p>
</article></body></html>
`)
	write("pl-page.html", charmap.ISO8859_2, `<!DOCTYPE html>
<html lang="pl"><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">
<link rel="canonical" href="https://www.other-site.example/kopia">
</head><body><article>
<h1>Polska wznowi produkcję min przeciwpiechotnych</h1>
<p>Sejm zagłosował za wypowiedzeniem konwencji ottawskiej; Bumar rozpocznie produkcję.</p>
</article></body></html>
`)
}
