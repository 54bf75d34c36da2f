package web

import (
	"strings"

	"github.com/minewatch/minewatch/news"
	"github.com/minewatch/minewatch/treaty"
)

// Human names for language and country codes. The taxonomy's labels (topics,
// actions, treaties) are package treaty's, shared with the digest and alerts.

var languageNames = map[string]string{
	"en": "English", "pl": "Polish", "lt": "Lithuanian", "lv": "Latvian", "et": "Estonian",
	"fi": "Finnish", "ru": "Russian", "uk": "Ukrainian", "de": "German", "fr": "French",
	"sv": "Swedish", "no": "Norwegian", "nb": "Norwegian Bokmål", "nn": "Norwegian Nynorsk",
	"da": "Danish", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
	"cs": "Czech", "sk": "Slovak", "hu": "Hungarian", "ro": "Romanian", "bg": "Bulgarian",
	"be": "Belarusian", "ka": "Georgian", "ar": "Arabic", "km": "Khmer", "th": "Thai",
	"ja": "Japanese", "ko": "Korean", "zh": "Chinese", "tr": "Turkish", "hr": "Croatian",
	"sr": "Serbian", "bs": "Bosnian", "sl": "Slovenian", "el": "Greek", "he": "Hebrew",
	"fa": "Persian", "ps": "Pashto", "uz": "Uzbek", "vi": "Vietnamese", "lo": "Lao",
}

// countryNames covers the states the treaties' news is about; other codes
// fall back to a name seen in the results' entities, then to the code itself.
var countryNames = map[string]string{
	"AF": "Afghanistan", "AL": "Albania", "AM": "Armenia", "AO": "Angola", "AT": "Austria",
	"AU": "Australia", "AZ": "Azerbaijan", "BA": "Bosnia and Herzegovina", "BE": "Belgium",
	"BG": "Bulgaria", "BR": "Brazil", "BY": "Belarus", "CA": "Canada", "CH": "Switzerland",
	"CN": "China", "CO": "Colombia", "CU": "Cuba", "CY": "Cyprus", "CZ": "Czechia",
	"DE": "Germany", "DK": "Denmark", "EE": "Estonia", "EG": "Egypt", "ES": "Spain",
	"ET": "Ethiopia", "FI": "Finland", "FR": "France", "GB": "United Kingdom", "GE": "Georgia",
	"GR": "Greece", "HR": "Croatia", "HU": "Hungary", "ID": "Indonesia", "IE": "Ireland",
	"IL": "Israel", "IN": "India", "IQ": "Iraq", "IR": "Iran", "IS": "Iceland", "IT": "Italy",
	"JP": "Japan", "KH": "Cambodia", "KP": "North Korea", "KR": "South Korea", "KZ": "Kazakhstan",
	"LA": "Laos", "LB": "Lebanon", "LK": "Sri Lanka", "LT": "Lithuania", "LU": "Luxembourg",
	"LV": "Latvia", "LY": "Libya", "MA": "Morocco", "MD": "Moldova", "ME": "Montenegro",
	"MH": "Marshall Islands", "MK": "North Macedonia", "ML": "Mali", "MM": "Myanmar",
	"MX": "Mexico", "MZ": "Mozambique", "NG": "Nigeria", "NL": "Netherlands", "NO": "Norway",
	"NZ": "New Zealand", "PK": "Pakistan", "PL": "Poland", "PS": "Palestine", "PT": "Portugal",
	"RO": "Romania", "RS": "Serbia", "RU": "Russia", "SA": "Saudi Arabia", "SD": "Sudan",
	"SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia", "SO": "Somalia", "SS": "South Sudan",
	"SY": "Syria", "TH": "Thailand", "TJ": "Tajikistan", "TR": "Türkiye", "UA": "Ukraine",
	"US": "United States", "UZ": "Uzbekistan", "VN": "Vietnam", "YE": "Yemen", "ZA": "South Africa",
	"ZW": "Zimbabwe", "XK": "Kosovo", "EH": "Western Sahara",
}

// The taxonomy's labels are treaty's, shared with the digest and the alerts;
// these names are what the templates and pages call.
func topicLabel(id string) string      { return treaty.TopicLabel(id) }
func actionLabel(a news.Action) string { return treaty.ActionLabel(a) }
func treatyLabel(t news.Treaty) string { return treaty.TreatyLabel(t) }

func languageName(code string) string {
	if n, ok := languageNames[strings.ToLower(code)]; ok {
		return n
	}
	if code == "" {
		return "unknown"
	}
	return code
}

// countryName prefers the table, then the name the classifier wrote into an
// entity (seen), then the code.
func countryName(code string, seen map[string]string) string {
	if n, ok := countryNames[strings.ToUpper(code)]; ok {
		return n
	}
	if n := seen[code]; n != "" {
		return n
	}
	return code
}
