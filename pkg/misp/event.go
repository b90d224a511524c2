package misp

// The MISP core format as IANT writes it (MISP's event JSON, the form
// of feed files). Numbers are written as strings, as MISP does.

// File is one event file of a feed: {"Event": {...}}.
type File struct {
	Event Event `json:"Event"`
}

// Event is a MISP event.
type Event struct {
	UUID             string      `json:"uuid"`
	Info             string      `json:"info"`
	Date             string      `json:"date"`      // YYYY-MM-DD
	Timestamp        string      `json:"timestamp"` // Unix seconds
	PublishTimestamp string      `json:"publish_timestamp"`
	Published        bool        `json:"published"`
	Analysis         string      `json:"analysis"`        // 0 initial, 1 ongoing, 2 completed
	ThreatLevelID    string      `json:"threat_level_id"` // 1 high, 2 medium, 3 low, 4 undefined
	Distribution     string      `json:"distribution"`    // 0 org, 1 community, 2 connected, 3 all, 4 group, 5 inherit
	OrgID            string      `json:"org_id"`
	OrgcID           string      `json:"orgc_id"`
	Orgc             Org         `json:"Orgc"`
	Tag              []Tag       `json:"Tag,omitempty"`
	Attribute        []Attribute `json:"Attribute,omitempty"`
}

// Org is the organisation that created an event: the origin state.
type Org struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// Tag is a tag of an event or an attribute, e.g. tlp:amber or
// iant:precedence="flash".
type Tag struct {
	Name   string `json:"name"`
	Colour string `json:"colour,omitempty"`
}

// Attribute is one attribute of an event.
type Attribute struct {
	UUID               string     `json:"uuid"`
	Type               string     `json:"type"`
	Category           string     `json:"category"`
	ToIDs              bool       `json:"to_ids"`
	Value              string     `json:"value"`
	Comment            string     `json:"comment"`
	Timestamp          string     `json:"timestamp"`
	Distribution       string     `json:"distribution"`
	Deleted            bool       `json:"deleted"`
	DisableCorrelation bool       `json:"disable_correlation"`
	Tag                []Tag      `json:"Tag,omitempty"`
	Sighting           []Sighting `json:"Sighting,omitempty"`
}

// Sighting is a sighting of an attribute (type 0: seen).
type Sighting struct {
	UUID         string `json:"uuid"`
	Type         string `json:"type"`          // 0 seen, 1 false positive, 2 expiration, 3 true positive
	DateSighting string `json:"date_sighting"` // Unix seconds
	Source       string `json:"source"`
	Orgc         Org    `json:"Organisation"`
}
