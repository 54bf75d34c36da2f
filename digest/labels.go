package digest

import "github.com/minewatch/minewatch/treaty"

// otherTopic groups the articles that scored no topic at all.
const otherTopic = "other"

// topicLabel is the taxonomy's label (package treaty, shared with the web and
// the alerts), plus the digest's own bucket for articles without a topic.
func topicLabel(id string) string {
	if id == otherTopic {
		return "Other"
	}
	return treaty.TopicLabel(id)
}
