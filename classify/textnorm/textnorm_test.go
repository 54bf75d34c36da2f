package textnorm

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"ascii lower":        {"mines", "mines"},
		"ascii upper":        {"Ottawa CONVENTION", "ottawa convention"},
		"polish l stroke":    {"Łotwa wyłącza", "lotwa wylacza"},
		"polish diacritics":  {"konwencję ottawską", "konwencje ottawska"},
		"lithuanian":         {"Ottavos konvencijos pasitraukė", "ottavos konvencijos pasitrauke"},
		"latvian":            {"izstāšanās Otavas", "izstasanas otavas"},
		"estonian":           {"Õigus jalaväemiinid", "oigus jalavaemiinid"},
		"german sharp s":     {"Straße STRASSE", "strasse strasse"},
		"capital sharp s":    {"GROẞ", "gross"},
		"german umlaut":      {"Überprüfung", "uberprufung"},
		"danish":             {"Ørsted Æble", "orsted aeble"},
		"french oe":          {"Œuvre", "oeuvre"},
		"icelandic":          {"Þing", "thing"},
		"croatian":           {"Đakovo", "dakovo"},
		"maltese":            {"Ħamrun", "hamrun"},
		"dotless i":          {"ılık", "ilik"},
		"cyrillic io":        {"Ёлка ёж", "елка еж"},
		"cyrillic short i":   {"Мінний Й", "міннии и"},
		"ukrainian":          {"Україна ЇЖАК Європа", "украіна іжак європа"},
		"russian case":       {"МИНЫ Мины", "мины мины"},
		"greek":              {"ΝΆΡΚΕΣ νάρκες", "ναρκεσ ναρκεσ"},
		"greek final sigma":  {"ς", "σ"},
		"nfkc ligature":      {"ﬁnland", "finland"},
		"nfkc fullwidth":     {"ＡＢＣ", "abc"},
		"combining sequence": {"e\u0301te\u0301", "ete"},
		"combining only":     {"\u0301", ""},
		"empty":              {"", ""},
		"digits":             {"1997", "1997"},
		"hangul recomposed":  {"한국", "한국"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Fold(tc.in); got != tc.want {
				t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// The table path must agree with the definition for every rune it covers, also
// next to marks and in mixed strings.
func TestFoldTableAgreesWithSlowPath(t *testing.T) {
	for r := rune(0); r < tableLimit; r++ {
		for _, s := range []string{string(r), "A" + string(r), string(r) + "\u0301", "α" + string(r)} {
			if !utf8.ValidString(s) {
				continue
			}
			if got, want := Fold(s), foldSlow(s); got != want {
				t.Errorf("Fold(%q) = %q, slow path %q", s, got, want)
			}
		}
	}
}

func TestFoldIdempotent(t *testing.T) {
	for _, s := range []string{"Łotwa", "ǿ", "ﬁ", "ΐ", "Straße", "İstanbul", "ᾼ", "ǅ"} {
		once := Fold(s)
		if twice := Fold(once); twice != once {
			t.Errorf("Fold(Fold(%q)) = %q, Fold = %q", s, twice, once)
		}
	}
}

func texts(toks []Token) []string {
	out := make([]string, len(toks))
	for i, tk := range toks {
		out[i] = tk.Text
	}
	return out
}

func TestTokenize(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"hyphen":          {"Ottawa-Abkommen", []string{"ottawa", "abkommen"}},
		"apostrophe":      {"d'Ottawa", []string{"d", "ottawa"}},
		"typographic ’":   {"l’interdiction", []string{"l", "interdiction"}},
		"modifier ʼ":      {"памʼять", []string{"пам", "ять"}},
		"punctuation":     {"mines, (cluster) munitions!", []string{"mines", "cluster", "munitions"}},
		"digits":          {"in 2025 the 6-month", []string{"in", "2025", "the", "6", "month"}},
		"polish":          {"Wystąpienie z konwencji ottawskiej.", []string{"wystapienie", "z", "konwencji", "ottawskiej"}},
		"lithuanian":      {"Lietuva pasitraukė iš Konvencijos", []string{"lietuva", "pasitrauke", "is", "konvencijos"}},
		"latvian":         {"Saeima nobalsoja par izstāšanos", []string{"saeima", "nobalsoja", "par", "izstasanos"}},
		"estonian":        {"Riigikogu võttis vastu", []string{"riigikogu", "vottis", "vastu"}},
		"german":          {"Straße", []string{"strasse"}},
		"ukrainian":       {"Україна вийшла з Оттавської конвенції", []string{"украіна", "виишла", "з", "оттавськоі", "конвенціі"}},
		"greek":           {"Σύμβαση της Οτάβας", []string{"συμβαση", "τησ", "οταβασ"}},
		"ligature":        {"ﬁnnish", []string{"finnish"}},
		"combining kept":  {"cafe\u0301 noir", []string{"cafe", "noir"}},
		"bare mark":       {"a \u0301 b", []string{"a", "b"}},
		"empty":           {"", []string{}},
		"only separators": {" -- ... ", []string{}},
		"invalid utf8":    {"ab\xffcd", []string{"ab", "cd"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			toks := Tokenize(tc.in)
			if got := texts(toks); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkTokens(t, tc.in, toks)
		})
	}
}

// checkTokens verifies the invariants every tokenization must keep.
func checkTokens(t *testing.T, s string, toks []Token) {
	t.Helper()
	prevEnd, prevSent := 0, 0
	for i, tk := range toks {
		if tk.Index != i {
			t.Fatalf("token %d has Index %d", i, tk.Index)
		}
		if tk.Start < prevEnd || tk.End <= tk.Start || tk.End > len(s) {
			t.Fatalf("token %d [%d,%d) out of order or range (prev end %d, len %d)", i, tk.Start, tk.End, prevEnd, len(s))
		}
		if tk.Sentence < prevSent {
			t.Fatalf("token %d sentence %d < previous %d", i, tk.Sentence, prevSent)
		}
		if tk.Text == "" {
			t.Fatalf("token %d has empty text", i)
		}
		if got := Fold(s[tk.Start:tk.End]); got != tk.Text {
			t.Fatalf("token %d text %q, but Fold of original %q is %q", i, tk.Text, s[tk.Start:tk.End], got)
		}
		prevEnd, prevSent = tk.End, tk.Sentence
	}
}

func TestTokenOffsetsMapToOriginal(t *testing.T) {
	s := "Łotwa i Litwa — „wycofanie się” z konwencji ﬁnansowej. Лiтва? Ёлка!"
	want := []string{"Łotwa", "i", "Litwa", "wycofanie", "się", "z", "konwencji", "ﬁnansowej", "Лiтва", "Ёлка"}
	toks := Tokenize(s)
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens, want %d", len(toks), len(want))
	}
	for i, tk := range toks {
		if got := s[tk.Start:tk.End]; got != want[i] {
			t.Errorf("token %d: s[%d:%d] = %q, want %q", i, tk.Start, tk.End, got, want[i])
		}
	}
	sents := []int{0, 0, 0, 0, 0, 0, 0, 0, 1, 2}
	for i, tk := range toks {
		if tk.Sentence != sents[i] {
			t.Errorf("token %q sentence %d, want %d", tk.Text, tk.Sentence, sents[i])
		}
	}
}

func sentenceTexts(s string, ss []Sentence) []string {
	out := make([]string, len(ss))
	for i, sn := range ss {
		out[i] = s[sn.Start:sn.End]
	}
	return out
}

func TestSentences(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"simple":           {"Poland left. Finland followed.", []string{"Poland left.", "Finland followed."}},
		"question bang":    {"Why? Because! Yes.", []string{"Why?", "Because!", "Yes."}},
		"ellipsis":         {"He paused… Then spoke.", []string{"He paused…", "Then spoke."}},
		"three dots":       {"Wait... Then go", []string{"Wait...", "Then go"}},
		"lower case next":  {"The U.N. said so. e.g. this", []string{"The U.N. said so. e.g. this"}},
		"abbrev Mr":        {"Mr. Smith met Dr. Jones. They talked.", []string{"Mr. Smith met Dr. Jones.", "They talked."}},
		"abbrev U.S.":      {"The U.S. State Department cut funds. Demining stopped.", []string{"The U.S. State Department cut funds.", "Demining stopped."}},
		"abbrev Gen Prof":  {"Gen. Kowalski and Prof. Nowak spoke.", []string{"Gen. Kowalski and Prof. Nowak spoke."}},
		"abbrev No":        {"Resolution No. 5 passed.", []string{"Resolution No. 5 passed."}},
		"polish nr np":     {"Ustawa nr. 12 oraz np. Litwa. Koniec", []string{"Ustawa nr. 12 oraz np. Litwa.", "Koniec"}},
		"lithuanian pvz":   {"Šalys, pvz. Lietuva, ir kt. Valstybės. Taip", []string{"Šalys, pvz. Lietuva, ir kt. Valstybės.", "Taip"}},
		"lithuanian t.y.":  {"Konvencija, t.y. Otavos sutartis.", []string{"Konvencija, t.y. Otavos sutartis."}},
		"german z.B.":      {"Staaten, z.B. Polen, treten aus.", []string{"Staaten, z.B. Polen, treten aus."}},
		"etc":              {"mines, bombs etc. Others too.", []string{"mines, bombs etc. Others too."}},
		"initial":          {"J. K. Rowling wrote. Then", []string{"J. K. Rowling wrote.", "Then"}},
		"ordinal date de":  {"Am 8. Mai trat Polen aus.", []string{"Am 8. Mai trat Polen aus."}},
		"ordinal lv":       {"Latvija konvenciju ratificēja 2023. gadā.", []string{"Latvija konvenciju ratificēja 2023. gadā."}},
		"ordinal et":       {"Riigikogu hääletas 4. Juunil.", []string{"Riigikogu hääletas 4. Juunil."}},
		"year ends":        {"It happened in 2025. The next year", []string{"It happened in 2025.", "The next year"}},
		"quote closes":     {`He said "we leave." Then left.`, []string{`He said "we leave."`, "Then left."}},
		"quote opens":      {`It ended. „Nie” – powiedział.`, []string{"It ended.", "„Nie” – powiedział."}},
		"dash opens":       {"It ended. — And then?", []string{"It ended.", "— And then?"}},
		"digit opens":      {"It ended. 56 voted for it.", []string{"It ended.", "56 voted for it."}},
		"cyrillic":         {"Україна вийшла. Польща теж.", []string{"Україна вийшла.", "Польща теж."}},
		"headline newline": {"Headline without stop\nBody starts here. Ends", []string{"Headline without stop", "Body starts here.", "Ends"}},
		"paragraphs":       {"  One.\n\n  Two  \r\n", []string{"One.", "Two"}},
		"decimal":          {"It cost 3.5 million. Done", []string{"It cost 3.5 million.", "Done"}},
		"no space":         {"example.com is. Ok", []string{"example.com is.", "Ok"}},
		"empty":            {"", []string{}},
		"spaces":           {" \n\t ", []string{}},
		"terminal only":    {"...", []string{"..."}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ss := Sentences(tc.in)
			if got := sentenceTexts(tc.in, ss); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Sentences(%q) =\n %q\nwant\n %q", tc.in, got, tc.want)
			}
			checkSentences(t, tc.in, ss)
		})
	}
}

func checkSentences(t *testing.T, s string, ss []Sentence) {
	t.Helper()
	prev := 0
	for i, sn := range ss {
		if sn.Start < prev || sn.End <= sn.Start || sn.End > len(s) {
			t.Fatalf("sentence %d [%d,%d) out of order or range (prev end %d, len %d)", i, sn.Start, sn.End, prev, len(s))
		}
		if txt := s[sn.Start:sn.End]; strings.TrimSpace(txt) != txt {
			t.Fatalf("sentence %d %q not trimmed", i, txt)
		}
		prev = sn.End
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"Ottawa-Abkommen d'Ottawa", "Łotwa. Ёлка! ﬁ", "e\u0301\u0301 \u0301", "Mr. X. 8. Mai\n\nZ", "ab\xffcd"} {
		f.Add(s)
	}
	var z Tokenizer
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokenize(s)
		checkTokens(t, s, toks)
		// Twice, so the second run reads the tokenizer's cache.
		for range 2 {
			if got := z.Append(nil, s); !reflect.DeepEqual(got, toks) {
				t.Fatalf("Tokenizer.Append(%q) = %v, Tokenize = %v", s, got, toks)
			}
		}
		ss := Sentences(s)
		checkSentences(t, s, ss)
		for _, tk := range toks {
			if tk.Sentence >= len(ss) {
				t.Fatalf("token %d sentence %d but %d sentences", tk.Index, tk.Sentence, len(ss))
			}
			sn := ss[tk.Sentence]
			if tk.Start < sn.Start || tk.End > sn.End {
				t.Fatalf("token [%d,%d) outside its sentence [%d,%d)", tk.Start, tk.End, sn.Start, sn.End)
			}
		}
	})
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Łotwa", "ΆΡ\u0345", "ﬁ", "α\u0345", "İ", "ǿ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Fatalf("Fold(%q) = %q, slow path %q", s, got, want)
		}
	})
}

const benchText = "Lietuva pasitraukė iš Otavos konvencijos. Poland's Sejm voted to leave the Ottawa Convention on landmines; Ukraine, 2025. "

func BenchmarkTokenize(b *testing.B) {
	text := strings.Repeat(benchText, 50)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Tokenize(text)
	}
}

func BenchmarkTokenizer(b *testing.B) {
	text := strings.Repeat(benchText, 50)
	var z Tokenizer
	var toks []Token
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		toks = z.Append(toks[:0], text)
	}
}

func TestTokenizerMatchesTokenize(t *testing.T) {
	var z Tokenizer
	for _, s := range []string{benchText, "Łotwa. ЁЛКА! ﬁ", "", "Ottawa-Abkommen", benchText} {
		want := Tokenize(s)
		if got := z.Append(nil, s); !reflect.DeepEqual(got, want) {
			t.Errorf("Tokenizer.Append(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzSentences(f *testing.F) {
	for _, s := range []string{"Mr. Smith left. He said „no.” Then\n\nU.S. 8. Mai", "...!?… A", " \u2028x. Y", "a.\xff B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSentences(t, s, Sentences(s))
	})
}

func BenchmarkSentences(b *testing.B) {
	text := strings.Repeat(benchText+"Mr. Smith met Dr. Jones on 8. Mai.\n\n", 50)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Sentences(text)
	}
}

func BenchmarkFold(b *testing.B) {
	words := strings.Fields("Ottawa konwencji ottawskiej Lietuva pasitraukė Оттавської конвенції Straße ﬁnland ΝΆΡΚΕΣ mines")
	b.ReportAllocs()
	for b.Loop() {
		for _, w := range words {
			Fold(w)
		}
	}
}
