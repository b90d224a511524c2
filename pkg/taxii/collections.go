package taxii

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/stix"
)

// collection is one view of the bulletins a person may read.
type collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`

	regions    []region.Region
	categories []bulletin.Category
	writable   bool // focal points add objects here
}

func collectionID(name string) string {
	return uuid.NewSHA1(stix.Namespace, []byte("taxii-collection/"+name)).String()
}

// collectionsOf lists the collections of person p: everything released
// to the node's state (focal points add bulletins there), one per region
// of origin, one per category. Ids are the same at every node.
func (s *Server) collectionsOf(p identity.Principal) []collection {
	out := []collection{{ID: collectionID("all"), Title: "Bulletins released to " + s.cfg.State,
		Description: "Every bulletin you may read at this node, in the order it was stored.", writable: true}}
	for _, g := range region.All() {
		out = append(out, collection{ID: collectionID("region/" + g.String()), Title: "From " + g.Title(),
			Description: "Bulletins whose origin state is in " + g.Title() + ".", regions: []region.Region{g}})
	}
	for c := bulletin.ForeignTerroristFighter; c.Valid(); c++ {
		out = append(out, collection{ID: collectionID("category/" + c.String()), Title: "Category " + c.String(),
			Description: "Bulletins of category " + c.String() + ".", categories: []bulletin.Category{c}})
	}
	for i := range out {
		out[i].CanRead = true
		out[i].CanWrite = out[i].writable && p.Role == identity.RoleFocalPoint
		out[i].MediaTypes = []string{MediaSTIX}
	}
	return out
}

// find returns the collection of the request's {cid} for p, or answers
// 404.
func (s *Server) find(w http.ResponseWriter, r *http.Request, p identity.Principal) (collection, bool) {
	id := r.PathValue("cid")
	for _, c := range s.collectionsOf(p) {
		if c.ID == id {
			return c, true
		}
	}
	writeError(w, http.StatusNotFound, "no collection with this id")
	return collection{}, false
}

func (s *Server) collections(w http.ResponseWriter, _ *http.Request, p identity.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"collections": s.collectionsOf(p)})
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if c, ok := s.find(w, r, p); ok {
		writeJSON(w, http.StatusOK, c)
	}
}

// shared are the objects every collection starts with: the TLP 2.0
// marking definitions and the identities of the member states (of the
// collection's regions), which its bulletins refer to.
func shared(c collection) []stix.Object {
	var out []stix.Object
	for _, m := range bulletin.Markings() {
		out = append(out, stix.TLPMarking(m))
	}
	for _, st := range region.States() {
		if len(c.regions) == 0 || st.Region == c.regions[0] {
			out = append(out, stix.StateIdentity(st.Code))
		}
	}
	return out
}
