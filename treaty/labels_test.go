package treaty

import (
	"testing"

	"github.com/minewatch/minewatch/news"
)

func TestLabelsCoverTheTaxonomy(t *testing.T) {
	for _, a := range news.Actions {
		t.Run(string(a), func(t *testing.T) {
			if _, ok := actionLabels[a]; !ok {
				t.Errorf("action %q has no label", a)
			}
		})
	}
	for _, id := range topics {
		t.Run(id, func(t *testing.T) {
			if _, ok := topicLabels[id]; !ok {
				t.Errorf("topic %q has no label", id)
			}
		})
	}
	if len(topics) != len(topicLabels) {
		t.Errorf("%d topics ordered but %d labelled", len(topics), len(topicLabels))
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"known topic", TopicLabel(news.TopicTreatyWithdrawal), "Treaty withdrawal"},
		{"unknown topic reads as words", TopicLabel("border_fences"), "border fences"},
		{"known action", ActionLabel(news.ActionWithdrawNotify), "notified withdrawal to the UN"},
		{"unknown action reads as words", ActionLabel("lay_mines"), "lay mines"},
		{"ottawa", TreatyLabel(news.TreatyOttawa), "Ottawa Convention"},
		{"ccm", TreatyLabel(news.TreatyCCM), "Convention on Cluster Munitions"},
		{"no treaty", TreatyLabel(news.TreatyNone), "no treaty"},
		{"unknown treaty", TreatyLabel("arms_trade"), "arms trade"},
		{"stage announce", StageLabel(news.ActionWithdrawAnnounce), "stage 1 of 4: announced"},
		{"stage vote", StageLabel(news.ActionWithdrawVote), "stage 2 of 4: law passed"},
		{"stage notify", StageLabel(news.ActionWithdrawNotify), "stage 3 of 4: UN notified"},
		{"stage effective", StageLabel(news.ActionWithdrawEffective), "stage 4 of 4: in effect"},
		{"no stage", StageLabel(news.ActionUse), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestTopicRank(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"withdrawal before membership", news.TopicTreatyWithdrawal, news.TopicTreatyMembership},
		{"cluster munitions before demining", news.TopicClusterMunitions, news.TopicDeminingFunding},
		{"taxonomy before a site's own topic", news.TopicTreatyMeetings, "border_fences"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if TopicRank(tc.a) >= TopicRank(tc.b) {
				t.Errorf("rank %q = %d, not before %q = %d", tc.a, TopicRank(tc.a), tc.b, TopicRank(tc.b))
			}
		})
	}
}
