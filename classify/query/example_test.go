package query_test

import (
	"fmt"

	"github.com/minewatch/minewatch/classify/query"
)

func ExampleParse() {
	n, err := query.Parse(`(withdraw* OR leave) NEAR/5 (Ottawa OR "mine ban") NOT title:naval`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n)
	// Output: ((withdraw* OR leave) NEAR/5 (Ottawa OR "mine ban")) AND NOT title:naval
}

func ExampleParse_adjacency() {
	// Words next to each other are ANDed; a hyphenated word is a phrase.
	n, _ := query.Parse("Ottawa-Abkommen Austritt")
	fmt.Println(n)
	// Output: "Ottawa Abkommen" AND Austritt
}

func ExampleParse_precedence() {
	// NOT binds tightest, then NEAR, then AND, then OR.
	n, _ := query.Parse("a b NEAR/3 c OR NOT d")
	fmt.Println(n)
	// Output: (a AND (b NEAR/3 c)) OR NOT d
}

func ExampleParse_field() {
	n, _ := query.Parse(`title:(mine OR "cluster munitions")`)
	fmt.Println(n)
	// Output: title:mine OR title:"cluster munitions"
}

func ExampleSyntaxError() {
	_, err := query.Parse("mine AND\n  (Ottawa OR")
	fmt.Println(err)
	// Output: line 2, column 13: expected a term or '(' after OR, found end of query
}
