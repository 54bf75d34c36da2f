//go:build ignore

// gen writes the charset fixtures: each file holds the same kind of treaty
// news in a legacy encoding, as real sites in those languages serve it.
// Run with: go run testdata/gen.go (from ingest/charset).
package main

import (
	"log"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

const (
	lt    = "Lietuva pasitraukė iš Otavos konvencijos dėl priešpėstinių minų; Seimas balsavo už."
	lv    = "Saeima nobalsoja par izstāšanos no Otavas konvencijas: kājnieku mīnas, ģeogrāfija, ļoti ņemts vērā."
	pl    = "Polska wznowi produkcję min przeciwpiechotnych; Sejm zagłosował za wypowiedzeniem konwencji. Źródło: żołnierz."
	ru    = "Литва вышла из Конвенции о кассетных боеприпасах; Ёлкин сообщил."
	uk    = "Україна призупинила дію Оттавської конвенції; ґрунт, їжак, єдність."
	fr    = "Norwegen bleibt im Übereinkommen; « mines antipersonnel », déminage à Genève."
	w1252 = "“Finnland verlässt das Ottawa-Übereinkommen” – sagt der Minister…"
)

func write(name string, enc encoding.Encoding, text string) {
	b, err := enc.NewEncoder().Bytes([]byte(text))
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		log.Fatal(err)
	}
}

func rss(decl, title string) string {
	return `<?xml version="1.0"` + decl + `?>
<rss version="2.0"><channel><title>t</title><item><title>` + title + `</title></item></channel></rss>
`
}

func page(meta, text string) string {
	return "<!DOCTYPE html>\n<html><head>" + meta + "<title>x</title></head><body><p>" + text + "</p></body></html>\n"
}

func main() {
	write("feed-windows-1257.xml", charmap.Windows1257, rss(` encoding="windows-1257"`, lt))
	write("page-iso-8859-13.html", charmap.ISO8859_13, page(`<meta charset="iso-8859-13">`, lv))
	write("feed-windows-1250.xml", charmap.Windows1250, rss(``, pl))
	write("page-iso-8859-2.html", charmap.ISO8859_2, page(`<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-2">`, pl))
	write("page-windows-1251.html", charmap.Windows1251, page(`<meta charset=windows-1251>`, ru))
	write("feed-koi8-r.xml", charmap.KOI8R, rss(` encoding='KOI8-R' standalone="yes"`, ru))
	write("page-koi8-u.html", charmap.KOI8U, page(``, uk))
	write("page-iso-8859-1.html", charmap.ISO8859_1, page(`<META HTTP-EQUIV="content-type" CONTENT="text/html;charset=iso-8859-1">`, fr))
	write("page-windows-1252-undeclared.html", charmap.Windows1252, page(``, w1252))
	write("feed-utf-16le-bom.xml", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), rss(` encoding="UTF-16"`, lt))
	write("feed-utf-16be-bom.xml", unicode.UTF16(unicode.BigEndian, unicode.UseBOM), rss(` encoding="UTF-16"`, uk))
	write("page-utf-8-bom.html", unicode.UTF8BOM, page(`<meta charset="windows-1251">`, ru))
	write("page-utf-8-mislabelled.html", unicode.UTF8, page(``, lv))
	write("page-windows-1257-late-meta.html", charmap.Windows1257,
		page("<!-- "+strings.Repeat("padding ", 300)+"-->"+`<meta charset="windows-1257">`, lt))
	write("page-header-wins.html", charmap.Windows1257, page(`<meta charset="iso-8859-1">`, lt))
	// Declared UTF-8, with a Latin-1 byte and a truncated sequence inside.
	b := []byte(page(`<meta charset="utf-8">`, "Otavos konvencija \xe9 \xe2\x82 pabaiga"))
	if err := os.WriteFile(filepath.Join("testdata", "page-utf-8-invalid.html"), b, 0o644); err != nil {
		log.Fatal(err)
	}
}
