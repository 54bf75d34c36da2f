package classify_test

import (
	"fmt"

	"github.com/minewatch/minewatch/classify"
	"github.com/minewatch/minewatch/classify/query"
	"github.com/minewatch/minewatch/news"
)

func ExampleClassifier_Classify() {
	c, err := classify.New(classify.Options{
		Topics: []classify.TopicDef{{ID: news.TopicTreatyWithdrawal}},
		Rules: []classify.RuleText{
			{ID: "withdraw-en", Topic: news.TopicTreatyWithdrawal, Query: `(withdraw* OR leave) NEAR/5 (Ottawa OR "mine ban")`},
			{ID: "withdraw-pl", Topic: news.TopicTreatyWithdrawal, Language: "pl", Query: `wypowiedz* NEAR/3 ottawsk*`},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	got := c.Classify(news.Article{
		Language: "pl",
		Title:    "Sejm uchwalił wypowiedzenie Konwencji Ottawskiej",
	})
	for _, t := range got.Topics {
		for _, m := range t.Matches {
			fmt.Println(t.Topic, t.Score, m.RuleID)
			for _, h := range m.Hits {
				fmt.Printf("  %s: %s[%d:%d]\n", h.Term, h.Field, h.Start, h.End)
			}
		}
	}
	// Output:
	// treaty_withdrawal 1 withdraw-pl
	//   wypowiedz*: title[15:28]
	//   ottawsk*: title[39:49]
}

func ExampleNew_errors() {
	_, err := classify.New(classify.Options{
		Topics: []classify.TopicDef{{ID: "production"}},
		Rules: []classify.RuleText{{
			ID: "prod-1", Topic: "production", File: "rules.yaml", Line: 12, Col: 12,
			Query: "(produc* OR manufactur*)\n  NEAR/5 (mine* OR",
		}},
	})
	fmt.Println(err)
	// Output: rules.yaml:13:19: rule prod-1: expected a term or '(' after OR, found end of query
}

func ExampleMatcher_Match() {
	n, _ := query.Parse(`"cluster munition*" NOT video`)
	m, _ := classify.CompileQuery(n)
	ok, hits := m.Match("Lithuania leaves the cluster munitions treaty", "")
	fmt.Println(ok, hits[0].Term, hits[0].Start, hits[0].End)
	// Output: true "cluster munition*" 21 38
}
