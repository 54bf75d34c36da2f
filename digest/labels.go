package digest

import (
	"slices"

	"github.com/minewatch/minewatch/news"
)

// Labels for the taxonomy ids; a digest reads as sentences, not ids.

var topicOrder = []string{
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
	"other":                     "Other",
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

var stageLabels = map[news.Action]string{
	news.ActionWithdrawAnnounce:  "stage 1 of 4: announced",
	news.ActionWithdrawVote:      "stage 2 of 4: law passed",
	news.ActionWithdrawNotify:    "stage 3 of 4: UN notified",
	news.ActionWithdrawEffective: "stage 4 of 4: in effect",
}

var treatyLabels = map[news.Treaty]string{
	news.TreatyOttawa: "Ottawa Convention",
	news.TreatyCCM:    "Convention on Cluster Munitions",
	news.TreatyNone:   "no treaty",
}

func topicLabel(t string) string {
	if l, ok := topicLabels[t]; ok {
		return l
	}
	return t
}

// topicRank orders the taxonomy's topics first, in taxonomy order.
func topicRank(t string) int {
	if i := slices.Index(topicOrder, t); i >= 0 {
		return i
	}
	return len(topicOrder)
}

func actionLabel(a news.Action) string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	return string(a)
}

func stageLabel(a news.Action) string { return stageLabels[a] }

func treatyLabel(t news.Treaty) string {
	if l, ok := treatyLabels[t]; ok {
		return l
	}
	return string(t)
}
