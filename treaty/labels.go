package treaty

import (
	"slices"
	"strings"

	"github.com/minewatch/minewatch/news"
)

// The human labels of the taxonomy ids live here, once, so the web page, the
// digest and the alerts never describe the same move in different words.
// The ids themselves stay in permalinks, the API and the configuration.

// topics lists the taxonomy's topics in the order outputs present them.
var topics = []string{
	news.TopicTreatyWithdrawal, news.TopicTreatyMembership, news.TopicProduction, news.TopicStockpile,
	news.TopicTransferUse, news.TopicClusterMunitions, news.TopicDeminingFunding,
	news.TopicCasualtiesVictims, news.TopicTreatyMeetings,
}

var topicLabels = map[string]string{
	news.TopicTreatyWithdrawal:  "Treaty withdrawal",
	news.TopicTreatyMembership:  "Treaty membership",
	news.TopicProduction:        "Production",
	news.TopicStockpile:         "Stockpiles",
	news.TopicTransferUse:       "Transfer and use",
	news.TopicDeminingFunding:   "Demining and funding",
	news.TopicCasualtiesVictims: "Casualties and victims",
	news.TopicTreatyMeetings:    "Treaty meetings",
	news.TopicClusterMunitions:  "Cluster munitions",
}

var actionLabels = map[news.Action]string{
	news.ActionWithdrawAnnounce:  "announced withdrawal",
	news.ActionWithdrawVote:      "voted or signed withdrawal law",
	news.ActionWithdrawNotify:    "notified withdrawal to the UN",
	news.ActionWithdrawEffective: "withdrawal took effect",
	news.ActionRemain:            "stays in the treaty",
	news.ActionJoinRatify:        "joined or ratified",
	news.ActionResumeProduction:  "resumes production",
	news.ActionProduce:           "produces",
	news.ActionDestroyStockpile:  "destroyed stockpile",
	news.ActionTransfer:          "transferred",
	news.ActionUse:               "used",
	news.ActionFundingCut:        "cut mine-action funding",
	news.ActionFundingIncrease:   "raised mine-action funding",
	news.ActionCasualties:        "casualties",
	news.ActionClearance:         "clearance",
}

var treatyLabels = map[news.Treaty]string{
	news.TreatyOttawa: "Ottawa Convention",
	news.TreatyCCM:    "Convention on Cluster Munitions",
	news.TreatyNone:   "no treaty",
}

var stageLabels = [...]string{
	StageAnnounce:  "stage 1 of 4: announced",
	StageVote:      "stage 2 of 4: law passed",
	StageNotify:    "stage 3 of 4: UN notified",
	StageEffective: "stage 4 of 4: in effect",
}

// TopicLabel is a topic id's human name, e.g. "Treaty withdrawal". An id
// outside the taxonomy (a site's own rule pack may add topics) reads as its
// words, never as an empty string.
func TopicLabel(id string) string {
	if l, ok := topicLabels[id]; ok {
		return l
	}
	return words(id)
}

// TopicRank orders topics for display: the taxonomy's topics first, in
// taxonomy order, then every other topic (rank len(taxonomy)).
func TopicRank(id string) int {
	if i := slices.Index(topics, id); i >= 0 {
		return i
	}
	return len(topics)
}

// ActionLabel is an action id's human wording as the predicate of a sentence
// whose subject is the country, e.g. "notified withdrawal to the UN".
func ActionLabel(a news.Action) string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	return words(string(a))
}

// TreatyLabel is a treaty id's full name, e.g. "Convention on Cluster Munitions".
func TreatyLabel(t news.Treaty) string {
	if l, ok := treatyLabels[t]; ok {
		return l
	}
	return words(string(t))
}

// StageLabel places a withdrawal action on the four-step path, e.g.
// "stage 3 of 4: UN notified"; it is "" for actions that are not a step.
func StageLabel(a news.Action) string {
	s := StageOf(a)
	if s == StageNone {
		return ""
	}
	return stageLabels[s]
}

func words(id string) string {
	return strings.ReplaceAll(id, "_", " ")
}
