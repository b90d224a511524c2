package statenode

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/store"
)

// The numeric values of bulletin's and region's enums equal the wire enums,
// so conversion is a cast guarded by a range check (see enum_test.go).

func tsOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeOf(ts *timestamppb.Timestamp, field string) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, problem.Invalid(field, "%s is not a valid timestamp", field)
	}
	return ts.AsTime(), nil
}

// bulletinFromProto converts a wire bulletin. It checks only what the
// conversion itself needs; callers run bulletin validation afterwards.
func bulletinFromProto(p *iantv1.Bulletin) (bulletin.Bulletin, error) {
	if p == nil {
		return bulletin.Bulletin{}, problem.Invalid("bulletin", "bulletin is required")
	}
	created, err := timeOf(p.GetCreateTime(), "create_time")
	if err != nil {
		return bulletin.Bulletin{}, err
	}
	expires, err := timeOf(p.GetExpireTime(), "expire_time")
	if err != nil {
		return bulletin.Bulletin{}, err
	}
	b := bulletin.Bulletin{
		ID:         p.GetId(),
		Origin:     p.GetOrigin(),
		Author:     p.GetAuthor(),
		CreatedAt:  created,
		ExpiresAt:  expires,
		Precedence: bulletin.Precedence(p.GetPrecedence()),
		Category:   bulletin.Category(p.GetCategory()),
		Grading: bulletin.Grading{
			Reliability: int(p.GetSourceGrading().GetReliability()),
			Credibility: int(p.GetSourceGrading().GetCredibility()),
		},
		Language:   bulletin.Language(p.GetLanguage()),
		Marking:    bulletin.Marking(p.GetMarking()),
		Title:      p.GetTitle(),
		Body:       p.GetBody(),
		Revises:    p.GetRevises(),
		Supersedes: p.GetSupersedes(),
		Revoked:    p.GetRevoked(),
		Recipients: p.GetRecipients(),
		Conditions: p.GetConditions(),
		Releasability: bulletin.Releasability{
			States: p.GetReleasability().GetStates(),
			All:    p.GetReleasability().GetAll(),
		},
	}
	for _, r := range p.GetReleasability().GetRegions() {
		b.Releasability.Regions = append(b.Releasability.Regions, region.Region(r))
	}
	for _, c := range p.GetCaveats() {
		b.Caveats = append(b.Caveats, bulletin.Caveat(c))
	}
	for _, in := range p.GetIndicators() {
		b.Indicators = append(b.Indicators, bulletin.Indicator{
			Type:        bulletin.IndicatorType(in.GetType()),
			Value:       in.GetValue(),
			Description: in.GetDescription(),
			Attributes:  in.GetAttributes(),
		})
	}
	if err := lifecycleFromProto(p, &b); err != nil {
		return bulletin.Bulletin{}, err
	}
	if err := audienceFromProto(p, &b); err != nil {
		return bulletin.Bulletin{}, err
	}
	return b, nil
}

// bulletinToProto converts a bulletin to its wire form.
func bulletinToProto(b *bulletin.Bulletin) *iantv1.Bulletin {
	p := &iantv1.Bulletin{
		Id:         b.ID,
		Origin:     b.Origin,
		Author:     b.Author,
		CreateTime: tsOf(b.CreatedAt),
		ExpireTime: tsOf(b.ExpiresAt),
		Precedence: iantv1.Precedence(b.Precedence),
		Category:   iantv1.Category(b.Category),
		Language:   iantv1.Language(b.Language),
		Marking:    iantv1.Marking(b.Marking),
		Title:      b.Title,
		Body:       b.Body,
		Revises:    b.Revises,
		Supersedes: b.Supersedes,
		Revoked:    b.Revoked,
		Recipients: b.Recipients,
		Conditions: b.Conditions,
		Releasability: &iantv1.Releasability{
			States: b.Releasability.States,
			All:    b.Releasability.All,
		},
	}
	if !b.Grading.IsZero() {
		p.SourceGrading = &iantv1.SourceGrading{
			Reliability: iantv1.SourceReliability(b.Grading.Reliability),
			Credibility: iantv1.InformationCredibility(b.Grading.Credibility),
		}
	}
	for _, r := range b.Releasability.Regions {
		p.Releasability.Regions = append(p.Releasability.Regions, iantv1.Region(r))
	}
	for _, c := range b.Caveats {
		p.Caveats = append(p.Caveats, iantv1.Caveat(c))
	}
	for _, in := range b.Indicators {
		p.Indicators = append(p.Indicators, &iantv1.Indicator{
			Type:        iantv1.IndicatorType(in.Type),
			Value:       in.Value,
			Description: in.Description,
			Attributes:  in.Attributes,
		})
	}
	lifecycleToProto(b, p)
	audienceToProto(b, p)
	return p
}

func recordToProto(r store.Record) *iantv1.StoredBulletin {
	state := iantv1.BulletinState_BULLETIN_STATE_ACTIVE
	if r.Bulletin.Revoked {
		state = iantv1.BulletinState_BULLETIN_STATE_REVOKED
	}
	return &iantv1.StoredBulletin{
		Bulletin:        bulletinToProto(&r.Bulletin),
		Cursor:          r.Cursor,
		Direction:       iantv1.Direction(r.Direction),
		ReceiveTime:     tsOf(r.ReceivedAt),
		AcknowledgeTime: tsOf(r.AckedAt),
		AcknowledgedBy:  r.AckedBy,
		ForwardedBy:     r.ForwardedBy,
		State:           state,
		Kind:            iantv1.MessageKind(r.Bulletin.Kind()),
	}
}

// filterFromProto converts a wire filter, rejecting unknown enum values and
// state codes by name.
func filterFromProto(p *iantv1.BulletinFilter) (store.Filter, error) {
	var f store.Filter
	for _, o := range p.GetOrigins() {
		if !region.IsMember(o) {
			return f, problem.Invalid("filter.origins", "unknown state code %q", o)
		}
		f.Origins = append(f.Origins, o)
	}
	for _, r := range p.GetRegions() {
		if !region.Region(r).Valid() {
			return f, problem.Invalid("filter.regions", "unknown region %d", int32(r))
		}
		f.Regions = append(f.Regions, region.Region(r))
	}
	for _, c := range p.GetCategories() {
		if !bulletin.Category(c).Valid() {
			return f, problem.Invalid("filter.categories", "unknown category %d", int32(c))
		}
		f.Categories = append(f.Categories, bulletin.Category(c))
	}
	for _, x := range p.GetPrecedences() {
		if !bulletin.Precedence(x).Valid() {
			return f, problem.Invalid("filter.precedences", "unknown precedence %d", int32(x))
		}
		f.Precedences = append(f.Precedences, bulletin.Precedence(x))
	}
	for _, m := range p.GetMarkings() {
		if !bulletin.Marking(m).Valid() {
			return f, problem.Invalid("filter.markings", "unknown marking %d", int32(m))
		}
		f.Markings = append(f.Markings, bulletin.Marking(m))
	}
	var err error
	if f.Since, err = timeOf(p.GetSince(), "filter.since"); err != nil {
		return f, err
	}
	if f.Until, err = timeOf(p.GetUntil(), "filter.until"); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, problem.Invalid("filter.until", "until is before since")
	}
	return f, nil
}
